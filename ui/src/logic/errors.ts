// What the user reads when something fails. The shell rejects with the
// client core's error text, written for logs and the terminal client
// ("server refused: that userName is taken (conflict)"); this turns it into
// a sentence for people, by what was being done where that changes the
// meaning (a conflict when creating an account is a taken name).

/** What the user was doing, where the same error means something specific. */
export type Doing = "sign-in" | "register" | "other";

/** A server refusal split into its contract code and message. */
export interface Refusal {
  code: string;
  message: string;
}

const REFUSED = /^server refused: (.*) \(([a-z_]+)\)$/s;

/** The code and message of a server refusal, or null for other errors. */
export function refusal(raw: string): Refusal | null {
  const m = REFUSED.exec(raw);
  return m ? { message: m[1] as string, code: m[2] as string } : null;
}

/** "that userName is taken" → "That user name is taken." */
function sentence(text: string): string {
  const t = text
    .trim()
    .replace(/\buserName\b/g, "user name")
    .replace(/\bdisplayName\b/g, "display name")
    .replace(/\broomId\b/g, "chat");
  if (!t) return "Something went wrong.";
  const first = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/** The error as a sentence for the user. */
export function friendlyError(raw: string, doing: Doing = "other"): string {
  const r = refusal(raw);
  if (r) {
    if (doing === "register" && r.code === "conflict") return "That user name is taken. Choose another, or sign in if it is yours.";
    if (doing === "sign-in" && r.code === "unauthenticated") return "Wrong user name or password.";
    if (r.code === "rate_limited") return "Slowed down by the server. Try again in a moment.";
    if (r.code === "unavailable" || r.code === "internal") return "The server could not do that just now. Try again in a moment.";
    return sentence(r.message);
  }
  if (raw.startsWith("cannot reach the server")) {
    return "Cannot reach the server. Check the address and your connection, then try again.";
  }
  if (raw.startsWith("offline:")) return "You are offline. This needs a connection to the server.";
  if (raw.startsWith("not signed in")) return "You are not signed in.";
  const out = /^signed out by the server: (.*); sign in again$/s.exec(raw);
  if (out) return `You were signed out (${(out[1] as string).trim()}). Sign in again.`;
  return sentence(raw);
}
