/** Entry point of the `logfire-broker` admin CLI (cli/bin/logfire-broker.js runs it through tsx). */
import { runCli } from './program';

// The AWS SDK warns on Node 20 that its 2027 releases need Node 22; here that is noise (see the README).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

void runCli(process.argv.slice(2), process, process.env).then((code) => {
  process.exitCode = code;
});
