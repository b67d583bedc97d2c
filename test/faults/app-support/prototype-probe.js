// Preloaded into a fault case's server (NODE_OPTIONS=--import): on SIGUSR2 the process prints one
// log line listing the own properties of the built-in prototypes, and what a fresh object inherits,
// so a case can compare them before and after feeding the server hostile input.
import process from "node:process";

const prototypes = { Object: Object.prototype, Array: Array.prototype, Function: Function.prototype, String: String.prototype, Number: Number.prototype };

function describe() {
  const own = {};
  for (const [name, proto] of Object.entries(prototypes)) {
    own[name] = Object.getOwnPropertyNames(proto)
      .map((key) => `${key}:${typeof Object.getOwnPropertyDescriptor(proto, key).value}`)
      .sort();
  }
  const inherited = [];
  for (const key in {}) inherited.push(key);
  return { own, inherited };
}

process.on("SIGUSR2", () => {
  process.stdout.write(`${JSON.stringify({ msg: "prototype probe", at: Date.now(), ...describe() })}\n`);
});
