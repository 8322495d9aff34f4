'use strict';
// Fail fast when the router does not complete a WAMP handshake at all, instead of
// letting every test of the suite run into its own timeout.
const h = require('./helpers');
(async () => {
  for (const s of h.SERIALIZERS) {
    try {
      const x = await h.connect(s.name, { timeoutMs: 5000 });
      await h.leave(x);
    } catch (e) {
      console.log(`preflight: no WAMP session over ${s.protocol} at ${h.URL} realm ${h.REALM}: ${e && e.message ? e.message : e}`);
      process.exit(1);
    }
  }
  process.exit(0);
})();
