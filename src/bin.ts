/**
 * `mai-usage`. `serve` alone (how every container starts) goes straight to the server, without
 * loading the command tree, the CLI library and every command's code it would never use; anything
 * else is parsed by the command tree (`Cli.ts`), `serve --help` included.
 */
const args = process.argv.slice(2)
if (args.length === 1 && args[0] === "serve") {
  void import("./Run.js").then((m) => m.serveMain())
} else {
  void import("./Cli.js")
}
