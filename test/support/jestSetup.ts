// The AWS SDK warns on every Node 20 process that it will need Node 22 from 2027; the Lambdas run
// nodejs22.x. The warning is noise in test output, so it is dropped here (tests only).
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const text = typeof warning === 'string' ? warning : warning.message;
  if (/AWS SDK for JavaScript \(v3\)/.test(text) || /NodeVersionSupportWarning/.test(String(rest[0]))) return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;
