//! The report: `results.json` (everything measured), `README.md` (tables
//! against the targets) and an SVG chart of latency over load.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use plotters::prelude::*;

use crate::results::{Configuration, EMBEDDED, PG_ONE_NODE, Phase, Results, to_json};

/// Writes the three files into `out`.
pub fn write(out: &Path, results: &Results, stem: &str) -> Result<()> {
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join(format!("{stem}.json")), to_json(results)?)?;
    let chart = format!("{stem}-latency.svg");
    chart_latency(&out.join(&chart), results)?;
    std::fs::write(out.join(format!("{stem}.md")), markdown(results, &chart))?;
    Ok(())
}

fn chart_latency(path: &Path, results: &Results) -> Result<()> {
    // (configuration, [(delivered/s, p50, p99)])
    type Series = (String, Vec<(f64, f64, f64)>);
    let mut series: Vec<Series> = Vec::new();
    for (name, cfg) in &results.configurations {
        let Some(t) = &cfg.throughput else {
            continue;
        };
        let pts = t
            .phases
            .iter()
            .map(|p| (p.delivered_per_s, p.latency.p50_ms, p.latency.p99_ms))
            .filter(|(x, a, b)| x.is_finite() && a.is_finite() && b.is_finite())
            .collect();
        series.push((name.clone(), pts));
    }
    let max_x = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|v| v.0))
        .fold(1.0, f64::max);
    let max_y = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|v| v.2))
        .fold(1.0, f64::max);
    let min_y = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|v| v.1))
        .fold(f64::INFINITY, f64::min)
        .max(0.01);
    let root = SVGBackend::new(path, (900, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Latency over load: p50 (solid) and p99 (dashed), send to receive",
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..max_x * 1.05, (min_y * 0.8..max_y * 1.25).log_scale())?;
    chart
        .configure_mesh()
        .light_line_style(WHITE)
        .x_desc("delivered messages/s")
        .y_desc("ms (log scale)")
        .draw()?;
    for (i, (name, pts)) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|p| (p.0, p.1)),
                color.stroke_width(2),
            ))?
            .label(format!("{name} p50"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
            });
        chart.draw_series(DashedLineSeries::new(
            pts.iter().map(|p| (p.0, p.2)),
            6,
            4,
            color.stroke_width(1),
        ))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

/// Milliseconds: whole above 10, else two decimals; `–` when not measured.
fn ms(v: impl Into<Option<f64>>) -> String {
    match v.into() {
        Some(x) if x >= 10.0 => format!("{x:.0}"),
        Some(x) => format!("{x:.2}"),
        None => "–".into(),
    }
}

/// A rate or count: whole above 100, else two decimals; `–` when not
/// measured.
fn num(v: impl Into<Option<f64>>) -> String {
    match v.into() {
        Some(x) if x >= 100.0 => format!("{x:.0}"),
        Some(x) => format!("{x:.2}"),
        None => "–".into(),
    }
}

fn markdown(r: &Results, chart: &str) -> String {
    let mut s = String::new();
    header(&mut s, r);
    targets_table(&mut s, r);
    let _ = writeln!(s, "![latency over load]({chart})\n");
    throughput(&mut s, r);
    wide_fanout(&mut s, r);
    fanout(&mut s, r);
    idle(&mut s, r);
    reconnect(&mut s, r);
    durable(&mut s, r);
    history(&mut s, r);
    client_store(&mut s, r);
    if !r.notes.is_empty() {
        let _ = writeln!(s, "\n## Notes\n");
        for n in &r.notes {
            let _ = writeln!(s, "- {n}");
        }
    }
    s
}

fn header(s: &mut String, r: &Results) {
    let m = &r.machine;
    let _ = writeln!(
        s,
        "# LeetChat benchmarks{}\n",
        if r.quick { " (quick run)" } else { "" }
    );
    let _ = writeln!(
        s,
        "Measured by `leetchat-bench` ({}), commit `{}`, on {} ({} cores, {}), {}. \
         Servers {}; the load generator {}. Build: {}.\n",
        r.mode,
        r.commit,
        m.cpu,
        m.cores,
        m.memory,
        r.date,
        r.pinning.servers,
        r.pinning.loadgen,
        r.build,
    );
}

fn targets_table(s: &mut String, r: &Results) {
    let _ = writeln!(s, "## Targets\n");
    let _ = writeln!(s, "| target | measured (embedded unless named) | met |");
    let _ = writeln!(s, "| --- | --- | --- |");
    for (target, measured, met) in targets(r) {
        let verdict = match met {
            _ if r.quick => "not judged (quick run)",
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "not measured",
        };
        let _ = writeln!(s, "| {target} | {measured} | {verdict} |");
    }
    let _ = writeln!(s);
}

fn throughput(s: &mut String, r: &Results) {
    let _ = writeln!(s, "## Latency and throughput (scenarios 1, 2, 9)\n");
    let _ = writeln!(
        s,
        "| configuration | sent msg/s | delivered/s | p50 ms | p90 ms | p99 ms | max ms | server CPU | µs CPU per delivery |"
    );
    let _ = writeln!(s, "| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (name, t) in each(r, |c| c.throughput.as_ref()) {
        for p in &t.phases {
            let _ = writeln!(
                s,
                "| {name} | {} | {} | {} | {} | {} | {} | {:.0}% | {} |",
                p.rate_msgs_per_s,
                num(p.delivered_per_s),
                ms(p.latency.p50_ms),
                ms(p.latency.p90_ms),
                ms(p.latency.p99_ms),
                ms(p.latency.max_ms),
                p.server_cpu_share * 100.0,
                num(p.server_cpu_us_per_delivery),
            );
        }
    }
    let _ = writeln!(s, "\nHighest delivered rate with p99 under 100 ms:\n");
    for (name, t) in each(r, |c| c.throughput.as_ref()) {
        let _ = writeln!(
            s,
            "- {name}: {} delivered/s ({} clients in groups of {})",
            num(t.sustained_delivered_per_s_p99_under_100ms),
            t.clients,
            t.group_size,
        );
    }
}

fn wide_fanout(s: &mut String, r: &Results) {
    let _ = writeln!(s, "\n## Wide fan-out: groups of 100 (scenarios 2, 9)\n");
    let _ = writeln!(
        s,
        "| configuration | sent msg/s | delivered/s | p50 ms | p99 ms | max ms | server CPU | µs CPU per delivery |"
    );
    let _ = writeln!(s, "| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (name, t) in each(r, |c| c.wide_fanout_throughput.as_ref()) {
        for p in &t.phases {
            let _ = writeln!(
                s,
                "| {name} | {} | {} | {} | {} | {} | {:.0}% | {} |",
                p.rate_msgs_per_s,
                num(p.delivered_per_s),
                ms(p.latency.p50_ms),
                ms(p.latency.p99_ms),
                ms(p.latency.max_ms),
                p.server_cpu_share * 100.0,
                num(p.server_cpu_us_per_delivery),
            );
        }
    }
}

fn fanout(s: &mut String, r: &Results) {
    let _ = writeln!(s, "\n## Fan-out to one group (scenario 3)\n");
    let _ = writeln!(
        s,
        "| configuration | members | publish → last recipient p50 / p99 / max ms | → each recipient p99 ms | µs CPU per delivery |"
    );
    let _ = writeln!(s, "| --- | --- | --- | --- | --- |");
    for (name, fo) in each(r, |c| c.fanout.as_ref()) {
        let l = &fo.publish_to_last_recipient;
        let _ = writeln!(
            s,
            "| {name} | {} | {} / {} / {} | {} | {} |",
            fo.members,
            ms(l.p50_ms),
            ms(l.p99_ms),
            ms(l.max_ms),
            ms(fo.publish_to_each_recipient.p99_ms),
            num(fo.server_cpu_us_per_delivery),
        );
    }
}

fn idle(s: &mut String, r: &Results) {
    let _ = writeln!(s, "\n## Idle connections (scenario 4)\n");
    for (name, idle) in each(r, |c| c.idle.as_ref()) {
        let pts: Vec<String> = idle
            .points
            .iter()
            .map(|p| {
                format!(
                    "{} → {:.1} MiB",
                    p.connections,
                    p.rss_bytes as f64 / 1048576.0
                )
            })
            .collect();
        let _ = writeln!(
            s,
            "- {name}: {:.1} KiB per connection (server RSS: {})",
            idle.bytes_per_connection / 1024.0,
            pts.join(", ")
        );
    }
}

fn reconnect(s: &mut String, r: &Results) {
    let _ = writeln!(s, "\n## Reconnect storm (scenario 5)\n");
    for (name, st) in each(r, |c| c.reconnect.as_ref()) {
        let presence = st
            .presence_pushes
            .map_or_else(|| "?".to_owned(), |n| n.to_string());
        let _ = writeln!(
            s,
            "- {name}: {} sockets ({} users) dropped at once, all back and caught up ({} missed messages per room) in {:.2} s; lost {}, duplicated {}; {} connects or syncs refused as retryable and retried with backoff; {} presence updates pushed (drop and return)",
            st.clients,
            st.users,
            st.missed_per_room,
            st.all_back_and_caught_up_s,
            st.lost,
            st.duplicated,
            st.retries,
            presence,
        );
    }
}

fn durable(s: &mut String, r: &Results) {
    let _ = writeln!(s, "\n## Durable writes (scenario 6)\n");
    let _ = writeln!(
        s,
        "| configuration | senders | acked msg/s | ack p50 ms | ack p99 ms |"
    );
    let _ = writeln!(s, "| --- | --- | --- | --- | --- |");
    for (name, d) in each(r, |c| c.durable.as_ref()) {
        let _ = writeln!(
            s,
            "| {name} | {} | {} | {} | {} |",
            d.senders,
            num(d.acked_per_s),
            ms(d.ack.p50_ms),
            ms(d.ack.p99_ms),
        );
    }
    let alone: Vec<_> = each(r, |c| c.durable.as_ref())
        .filter_map(|(name, d)| d.database_alone.as_ref().map(|a| (name, d, a)))
        .collect();
    if alone.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\nThe same rows (next seq, message, event) written through the server's `Db` \
         alone, in the same run (scenario 6b): one transaction per message, and \
         batched (every row waiting when a commit starts). The ratio is scenario \
         6's acked msg/s over the batched database's.\n"
    );
    let _ = writeln!(
        s,
        "| configuration | per-message commits msg/s | p99 ms | batched msg/s | p99 ms | rows per commit | server / batched database |"
    );
    let _ = writeln!(s, "| --- | --- | --- | --- | --- | --- | --- |");
    for (name, d, a) in alone {
        let ratio = if a.batched.written_per_s > 0.0 {
            d.acked_per_s / a.batched.written_per_s
        } else {
            0.0
        };
        let _ = writeln!(
            s,
            "| {name} | {} | {} | {} | {} | {:.1} | {ratio:.2} |",
            num(a.per_message.written_per_s),
            ms(a.per_message.latency.p99_ms),
            num(a.batched.written_per_s),
            ms(a.batched.latency.p99_ms),
            a.batched.mean_batch,
        );
    }
}

fn history(s: &mut String, r: &Results) {
    let _ = writeln!(s, "\n## History through the API (scenario 7)\n");
    for (name, h) in each(r, |c| c.history.as_ref()) {
        let _ = writeln!(
            s,
            "- {name}: a room with {} messages; newest page (50) p50 {} ms, p99 {} ms; a page before a random cursor p50 {} ms, p99 {} ms, max {} ms",
            h.messages,
            ms(h.newest_page.p50_ms),
            ms(h.newest_page.p99_ms),
            ms(h.page_at_random_cursor.p50_ms),
            ms(h.page_at_random_cursor.p99_ms),
            ms(h.page_at_random_cursor.max_ms),
        );
    }
}

fn client_store(s: &mut String, r: &Results) {
    let Some(cs) = &r.client_store else {
        return;
    };
    let _ = writeln!(s, "\n## Client store (scenario 8)\n");
    let _ = writeln!(
        s,
        "The client core's SQLite store with {} messages in one room; a page is 50 messages; each operation 50 times.\n",
        cs.messages
    );
    let _ = writeln!(s, "| operation | p50 ms | p99 ms |");
    let _ = writeln!(s, "| --- | --- | --- |");
    for (label, t) in [
        (
            "cold open of the store + newest page",
            &cs.cold_open_newest_page,
        ),
        ("newest page, store already open", &cs.newest_page_warm),
        ("search, one word (50 newest hits)", &cs.search_one_word),
        ("search, two words", &cs.search_two_words),
    ] {
        let _ = writeln!(s, "| {label} | {} | {} |", ms(t.p50_ms), ms(t.p99_ms));
    }
}

/// Every configuration (in name order) that has the scenario `pick` picks.
fn each<'a, T: 'a>(
    r: &'a Results,
    pick: impl Fn(&'a Configuration) -> Option<&'a T>,
) -> impl Iterator<Item = (&'a String, &'a T)> {
    r.configurations
        .iter()
        .filter_map(move |(name, cfg)| pick(cfg).map(|x| (name, x)))
}

/// A target: what it asks, what was measured, and whether it holds (none:
/// not measured, or not at the target's size).
type Verdict = (&'static str, String, Option<bool>);

/// Each target of the issue with what was measured and whether it holds.
/// Embedded unless named; a scenario that did not run is measured as `–`.
fn targets(r: &Results) -> Vec<Verdict> {
    let emb = r.configurations.get(EMBEDDED);
    let phases: &[Phase] = emb
        .and_then(|c| c.throughput.as_ref())
        .map_or(&[], |t| &t.phases);
    let wide: &[Phase] = emb
        .and_then(|c| c.wide_fanout_throughput.as_ref())
        .map_or(&[], |t| &t.phases);
    vec![
        at_5k(phases),
        wide_sustained(emb),
        idle_memory(emb),
        big_fanout(emb),
        storm(emb),
        history_page(r),
        cold_open(r),
        cpu_per_delivery(phases, wide),
    ]
}

fn at_5k(phases: &[Phase]) -> Verdict {
    const TARGET: &str = "p99 ≤ 10 ms at 5,000 delivered messages/s";
    // The phase delivering closest to (at least) 5,000/s.
    let at5k = phases
        .iter()
        .filter(|p| p.delivered_per_s >= 4500.0)
        .min_by(|a, b| a.delivered_per_s.total_cmp(&b.delivered_per_s));
    match at5k {
        Some(p) => (
            TARGET,
            format!(
                "p99 {} ms at {} delivered/s",
                ms(p.latency.p99_ms),
                num(p.delivered_per_s)
            ),
            Some(p.latency.p99_ms <= 10.0),
        ),
        None => (TARGET, "no phase reached 5,000/s".into(), None),
    }
}

fn wide_sustained(emb: Option<&Configuration>) -> Verdict {
    let sus = emb
        .and_then(|c| c.wide_fanout_throughput.as_ref())
        .and_then(|t| t.sustained_delivered_per_s_p99_under_100ms);
    (
        "≥ 100,000 delivered messages/s in fan-out (groups of 100, p99 < 100 ms)",
        format!("{} delivered/s", num(sus)),
        sus.map(|v| v >= 100_000.0),
    )
}

fn idle_memory(emb: Option<&Configuration>) -> Verdict {
    let idle = emb.and_then(|c| c.idle.as_ref());
    (
        "≤ 10 KB server memory per idle connection",
        idle.map_or_else(
            || "–".into(),
            |i| format!("{:.1} KiB", i.bytes_per_connection / 1024.0),
        ),
        idle.map(|i| i.bytes_per_connection <= 10.0 * 1024.0),
    )
}

fn big_fanout(emb: Option<&Configuration>) -> Verdict {
    let fo = emb.and_then(|c| c.fanout.as_ref());
    (
        "1,000-member fan-out p99 ≤ 25 ms (publish → last recipient)",
        fo.map_or_else(
            || "–".into(),
            |fo| {
                format!(
                    "p99 {} ms with {} members",
                    ms(fo.publish_to_last_recipient.p99_ms),
                    fo.members
                )
            },
        ),
        fo.map(|fo| fo.publish_to_last_recipient.p99_ms <= 25.0),
    )
}

fn storm(emb: Option<&Configuration>) -> Verdict {
    let st = emb.and_then(|c| c.reconnect.as_ref());
    (
        "15,000 clients reconnected and caught up within 10 s, zero loss",
        st.map_or_else(
            || "–".into(),
            |st| {
                format!(
                    "{} clients in {:.2} s, lost {}, duplicated {}",
                    st.clients, st.all_back_and_caught_up_s, st.lost, st.duplicated
                )
            },
        ),
        // Below 15,000 clients the target was not tried at its size.
        st.filter(|st| st.clients >= 15_000)
            .map(|st| st.all_back_and_caught_up_s <= 10.0 && st.lost == 0 && st.duplicated == 0),
    )
}

fn history_page(r: &Results) -> Verdict {
    let h = r
        .configurations
        .get(PG_ONE_NODE)
        .and_then(|c| c.history.as_ref());
    (
        "history page p99 ≤ 5 ms at 1M messages",
        h.map_or_else(
            || "–".into(),
            |h| {
                format!(
                    "PostgreSQL, {} messages: p99 {} ms (random cursor), {} ms (newest page)",
                    h.messages,
                    ms(h.page_at_random_cursor.p99_ms),
                    ms(h.newest_page.p99_ms)
                )
            },
        ),
        h.filter(|h| h.messages >= 1_000_000)
            .map(|h| h.page_at_random_cursor.p99_ms <= 5.0),
    )
}

fn cold_open(r: &Results) -> Verdict {
    let cs = r.client_store.as_ref();
    (
        "client cold open of the newest page ≤ 5 ms with 100k messages",
        cs.map_or_else(
            || "–".into(),
            |cs| {
                format!(
                    "p99 {} ms with {} messages",
                    ms(cs.cold_open_newest_page.p99_ms),
                    cs.messages
                )
            },
        ),
        cs.filter(|cs| cs.messages >= 100_000)
            .map(|cs| cs.cold_open_newest_page.p99_ms <= 5.0),
    )
}

fn cpu_per_delivery(phases: &[Phase], wide: &[Phase]) -> Verdict {
    let cpu = phases
        .iter()
        .chain(wide)
        .filter(|p| p.deliveries > 0)
        .map(|p| p.server_cpu_us_per_delivery)
        .fold(f64::INFINITY, f64::min);
    (
        "≤ 10 µs server CPU per delivered message",
        format!("{cpu:.1} µs at best (any phase, groups of 10 or 100)"),
        cpu.is_finite().then_some(cpu <= 10.0),
    )
}

/// The soak's report: `soak.json` and `soak.md` in `out`.
pub fn write_soak(out: &Path, info: &Results, soak: &crate::results::Soak) -> Result<()> {
    std::fs::create_dir_all(out)?;
    let json = serde_json::json!({
        "date": info.date,
        "commit": info.commit,
        "build": info.build,
        "machine": info.machine,
        "soak": soak,
    });
    std::fs::write(out.join("soak.json"), serde_json::to_string_pretty(&json)?)?;
    let mut s = String::new();
    let m = &info.machine;
    let _ = writeln!(s, "# LeetChat soak\n");
    let _ = writeln!(
        s,
        "Measured by `leetchat-bench --only soak` (scenario 10), commit `{}`, on {} ({} cores, {}), {}. Build: {}.\n",
        info.commit, m.cpu, m.cores, m.memory, info.date, info.build
    );
    let _ = writeln!(
        s,
        "{:.1} minutes on {} nodes (PostgreSQL + Redis), {} clients that are the real client core \
         (store, outbox, reconnect and resume), half on each node, each sending a message every \
         500 ms into one of {} groups everyone is in; one client stopped and started again every \
         20 s ({} in all).\n",
        soak.minutes, soak.nodes, soak.clients, soak.groups, soak.reconnects
    );
    let _ = writeln!(s, "## Delivery\n");
    let _ = writeln!(
        s,
        "| sent | acked | lost | duplicated | database rows | distinct |"
    );
    let _ = writeln!(s, "| ---: | ---: | ---: | ---: | ---: | ---: |");
    let _ = writeln!(
        s,
        "| {} | {} | **{}** | **{}** | {} | {} |\n",
        soak.sent, soak.acked, soak.lost, soak.duplicated, soak.db_rows, soak.db_distinct
    );
    let _ = writeln!(
        s,
        "Lost and duplicated are counted on every member's store after the outboxes drained: an \
         acked message missing from a member, or stored twice. Both must be 0.\n"
    );
    let _ = writeln!(s, "## Faults\n");
    for e in &soak.events {
        let _ = writeln!(s, "- at {} s: {}", e.t_s, e.what);
    }
    let _ = writeln!(s, "\n## Send to receive, per minute (live pushes)\n");
    let _ = writeln!(s, "| minute | received | p50 ms | p99 ms | max ms |");
    let _ = writeln!(s, "| ---: | ---: | ---: | ---: | ---: |");
    for p in &soak.per_minute {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            p.minute,
            p.received,
            ms(p.latency.p50_ms),
            ms(p.latency.p99_ms),
            ms(p.latency.max_ms)
        );
    }
    let _ = writeln!(s, "\n## Memory (RSS, MiB)\n");
    let growth = soak
        .node1_rss_growth
        .map_or("not measured (run shorter than 150 s)".to_owned(), |g| {
            format!("{g:.2}x")
        });
    let _ = writeln!(
        s,
        "Node 1 is never restarted: its median in the last minute over its second minute's: {growth}.\n"
    );
    let _ = writeln!(s, "| s | node 1 | node 2 |");
    let _ = writeln!(s, "| ---: | ---: | ---: |");
    for p in soak.memory.iter().step_by(3) {
        let _ = writeln!(s, "| {} | {:.1} | {:.1} |", p.t_s, p.node1_mib, p.node2_mib);
    }
    std::fs::write(out.join("soak.md"), s)?;
    Ok(())
}

/// Scenario 11's report: `<stem>.md` and `<stem>.json`.
pub fn write_search(
    out: &Path,
    info: &Results,
    engines: &[crate::results::SearchEngine],
    notes: &[String],
    stem: &str,
) -> Result<()> {
    std::fs::create_dir_all(out)?;
    let json = serde_json::json!({
        "date": info.date,
        "commit": info.commit,
        "build": info.build,
        "machine": info.machine,
        "quick": info.quick,
        "notes": notes,
        "search": engines,
    });
    std::fs::write(
        out.join(format!("{stem}.json")),
        serde_json::to_string_pretty(&json)?,
    )?;
    let mib =
        |b: Option<u64>| b.map_or("n/a".to_owned(), |b| format!("{:.0}", b as f64 / 1048576.0));
    let mut s = String::new();
    let m = &info.machine;
    let _ = writeln!(s, "# LeetChat search\n");
    let _ = writeln!(
        s,
        "Measured by `leetchat-bench --only search` (scenario 11){}, commit `{}`, on {} ({} cores, {}), {}. Build: {}.\n",
        if info.quick {
            " --quick (small: the timings mean little)"
        } else {
            ""
        },
        info.commit,
        m.cpu,
        m.cores,
        m.memory,
        info.date,
        info.build
    );
    let _ = writeln!(
        s,
        "Each engine gets a room set written straight into its database (pseudo-words of two or \
         three syllables, 6 to 14 per message, some far more common than others, plus marker \
         words at known frequencies), without their words, like a database from before search. \
         The server is started on it and indexes it in the background (timed); every match of the \
         rarest marker is then paged through and counted (none missing, none twice). Each query \
         is asked one request at a time over one WebSocket, first page of 20, by a user in every \
         room: the time is from sending the request to its ack, so it includes the socket, the \
         membership check and loading the 20 messages. The machine is shared and noisy: read the \
         figures as ranges.\n"
    );
    for note in notes {
        let _ = writeln!(s, "- {note}");
    }
    for e in engines {
        let _ = writeln!(s, "## {}\n", e.name);
        let counts: Vec<String> = e
            .marker_counts
            .iter()
            .map(|(w, n)| format!("`{w}` {n}"))
            .collect();
        let _ = writeln!(
            s,
            "{} messages over {} groups (markers: {}). Written in {:.0} s; indexed by the server in \
             the background in {:.0} s. Index: {} MiB (the messages table without it: {} MiB).\n",
            e.messages,
            e.rooms,
            counts.join(", "),
            e.seed_s,
            e.index_s,
            mib(e.index_bytes),
            mib(e.table_bytes)
        );
        let _ = writeln!(s, "| query | results | p50 ms | p90 ms | p99 ms | max ms |");
        let _ = writeln!(s, "| --- | ---: | ---: | ---: | ---: | ---: |");
        for q in &e.queries {
            let _ = writeln!(
                s,
                "| {} (`{}`) | {} | {} | {} | {} | {} |",
                q.label,
                q.query,
                q.first_page,
                ms(q.latency.p50_ms),
                ms(q.latency.p90_ms),
                ms(q.latency.p99_ms),
                ms(q.latency.max_ms)
            );
        }
        let _ = writeln!(
            s,
            "\nThe send path (one sender, each send waiting for its ack, fsync on commit):\n"
        );
        let _ = writeln!(s, "| database | sends/s | p50 ms | p99 ms |");
        let _ = writeln!(s, "| --- | ---: | ---: | ---: |");
        let mut rows = vec![
            ("empty, with search", &e.send_empty),
            ("whole room set indexed", &e.send_indexed),
        ];
        if let Some(b) = &e.send_before_search {
            rows.insert(0, ("empty, server from before search", b));
        }
        for (what, c) in rows {
            let _ = writeln!(
                s,
                "| {what} | {:.0} | {} | {} |",
                c.per_s,
                ms(c.ack.p50_ms),
                ms(c.ack.p99_ms)
            );
        }
        if let Some(b) = &e.send_before_search {
            let _ = writeln!(
                s,
                "\nSend p50 with search over before it: {:.2}x; sends/s: {:.2}x.",
                e.send_empty.ack.p50_ms / b.ack.p50_ms.max(f64::MIN_POSITIVE),
                e.send_empty.per_s / b.per_s.max(f64::MIN_POSITIVE)
            );
        }
        let _ = writeln!(s);
    }
    std::fs::write(out.join(format!("{stem}.md")), s)?;
    Ok(())
}
