// `node --test ui/e2e/` only picks up files named like *.test.mjs (Node 20's
// default patterns); the scenario lives in app.e2e.mjs so that the UI's unit
// test runner (vitest) never mistakes it for a unit test.
import "./app.e2e.mjs";
