/**
 * A throw-away copy of the working tree for scripts/mutate.ts: mutants are written only here,
 * never into the tree you work in, so Ctrl-C, a crash or a kill can never leave one behind.
 *
 * The copy holds every tracked and untracked (not ignored) file, so uncommitted edits are
 * mutated too. node_modules is a folder of links to the real packages (vite's own cache then
 * lands in the copy), and ../shared is linked when present (the contract tests read it).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export class Sandbox {
  readonly base: string;
  readonly dir: string;
  readonly #originals = new Map<string, string>();
  #child: ChildProcess | undefined;

  constructor(root: string) {
    this.base = mkdtempSync(join(tmpdir(), 'mutate-'));
    this.dir = join(this.base, 'repo');
    const files = execFileSync(
      'git',
      ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
      {
        cwd: root,
        encoding: 'utf8',
      },
    )
      .split('\0')
      .filter((f) => f !== '' && existsSync(join(root, f)));
    for (const f of files) {
      mkdirSync(dirname(join(this.dir, f)), { recursive: true });
      copyFileSync(join(root, f), join(this.dir, f));
    }
    const modules = join(root, 'node_modules');
    mkdirSync(join(this.dir, 'node_modules'));
    for (const name of readdirSync(modules)) {
      if (name === '.vite' || name === '.vitest') continue;
      symlinkSync(realpathSync(join(modules, name)), join(this.dir, 'node_modules', name));
    }
    const shared = join(root, '..', 'shared');
    if (existsSync(shared)) symlinkSync(realpathSync(shared), join(this.base, 'shared'));
  }

  /** Writes `text` over `file` (repository-relative) in the copy; `restore` puts it back. */
  write(file: string, text: string): void {
    const abs = join(this.dir, file);
    if (!this.#originals.has(file)) this.#originals.set(file, readFileSync(abs, 'utf8'));
    writeFileSync(abs, text);
  }

  restore(file: string): void {
    const original = this.#originals.get(file);
    if (original !== undefined) writeFileSync(join(this.dir, file), original);
  }

  /**
   * Runs `node args…` in the copy, in its own process group so that a timeout (or our own exit)
   * kills vitest and every workerd it started.
   */
  run(
    args: readonly string[],
    timeoutMs: number,
  ): Promise<{ code: number | null; timedOut: boolean; output: string; ms: number }> {
    const started = performance.now();
    return new Promise((resolveRun) => {
      const child = spawn(process.execPath, args, {
        cwd: this.dir,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', CI: '1' },
      });
      this.#child = child;
      let output = '';
      const keep = (chunk: Buffer) => {
        output = (output + chunk.toString('utf8')).slice(-200_000);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        this.#killChild();
      }, timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        this.#killChild(); // stray workerd processes of the group
        this.#child = undefined;
        resolveRun({ code, timedOut, output, ms: performance.now() - started });
      });
    });
  }

  #killChild(): void {
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /** Kills a running test process and deletes the copy. Safe to call twice, and on exit. */
  dispose(): void {
    this.#killChild();
    rmSync(this.base, { recursive: true, force: true });
  }
}
