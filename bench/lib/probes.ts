/**
 * Runs a probe (bench/probes/*.ts) in a child Node process — its own heap and V8 flags — and reads
 * the one JSON line it prints.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function runProbe<T>(
  root: string,
  probe: string,
  nodeFlags: string[],
  args: string[],
): Promise<{ ok: true; value: T } | { ok: false; reason: string }> {
  let stdout: string;
  let stderr = '';
  try {
    ({ stdout, stderr } = await run(
      process.execPath,
      [...nodeFlags, '--import', 'tsx', resolve(root, 'bench/probes', probe), ...args],
      { cwd: root, maxBuffer: 16 * 1024 * 1024, timeout: 300_000 },
    ));
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    stdout = err.stdout ?? '';
    stderr = err.stderr ?? err.message;
  }
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(line) as T & { error?: string };
    if (typeof parsed.error === 'string') return { ok: false, reason: parsed.error };
    return { ok: true, value: parsed };
  } catch {
    const detail = (stderr || stdout).trim().split('\n').slice(-5).join(' | ');
    return { ok: false, reason: `probe ${probe} failed: ${detail || 'no output'}` };
  }
}
