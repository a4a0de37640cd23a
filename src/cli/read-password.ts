import { CustosError } from '../core/custos-error.js';

/** Reads all of stdin (a pipe or a file), at most `maxBytes`. */
async function readAll(maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new CustosError('USAGE', `the password on stdin is longer than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads one line from the terminal without echoing it. */
function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const input = process.stdin;
    process.stderr.write(prompt);
    input.setRawMode(true);
    input.resume();
    let text = '';
    const done = (error?: Error): void => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      process.stderr.write('\n');
      if (error === undefined) resolve(text);
      else reject(error);
    };
    const onData = (data: Buffer): void => {
      for (const char of data.toString('utf8')) {
        if (char === '\r' || char === '\n') return done();
        if (char === '\u0003' || char === '\u0004') return done(new CustosError('USAGE', 'no password given'));
        if (char === '\u007f' || char === '\b') text = text.slice(0, -1);
        else text += char;
      }
    };
    input.on('data', onData);
  });
}

/**
 * A new password, never from the command line (it would show in `ps` and shell history): typed twice on a
 * terminal without echo, or the first line of stdin when it is a pipe.
 */
export async function readNewPassword(): Promise<string> {
  let password: string;
  if (process.stdin.isTTY) {
    password = await promptHidden('password: ');
    if ((await promptHidden('again: ')) !== password) throw new CustosError('USAGE', 'the two passwords differ');
  } else {
    password = (await readAll(4096)).split(/\r?\n/)[0] ?? '';
  }
  if ([...password].length < 10) throw new CustosError('USAGE', 'the password must be at least 10 characters');
  return password;
}
