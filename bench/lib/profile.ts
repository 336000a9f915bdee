/**
 * `--profile`: a V8 CPU profile of the gateway isolate in workerd while it serves one extra load
 * run per scenario (not counted in the figures), through miniflare's inspector proxy. Each
 * profile is written to bench/.build/profiles/<scenario>.cpuprofile (open it in Chrome DevTools)
 * and summarised by self time, with positions mapped through the bundle's source map to our
 * sources and packages — the way to find out why a target is missed.
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import net from 'node:net';
import { relative, resolve } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame }>;
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface HotSpot {
  /** Share of the non-idle samples, percent. */
  selfPct: number;
  selfMs: number;
  what: string;
}

/** A free TCP port on loopback (the inspector proxy needs a fixed one). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

/** One DevTools-protocol session with a worker through miniflare's inspector proxy. */
export class WorkerProfiler {
  private nextId = 0;
  private readonly pending = new Map<number, (result: unknown) => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener('message', (event: MessageEvent) => {
      const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
      if (message.id === undefined) return;
      this.pending.get(message.id)?.(message.result);
      this.pending.delete(message.id);
    });
  }

  static async connect(inspectorPort: number, workerName: string): Promise<WorkerProfiler> {
    // The proxy refuses upgrades without an allowed Origin (it guards against web pages).
    const url = `ws://127.0.0.1:${inspectorPort}/${workerName}`;
    const WebSocketWithHeaders = WebSocket as unknown as new (
      url: string,
      init: { headers: Record<string, string> },
    ) => WebSocket;
    const ws = new WebSocketWithHeaders(url, { headers: { origin: 'http://localhost' } });
    await new Promise<void>((resolveOpen, reject) => {
      ws.addEventListener('open', () => resolveOpen(), { once: true });
      ws.addEventListener(
        'error',
        () => reject(new Error(`inspector ${url} refused the connection`)),
        {
          once: true,
        },
      );
    });
    return new WorkerProfiler(ws);
  }

  private call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = ++this.nextId;
    return new Promise<T>((resolveCall, reject) => {
      const timer = setTimeout(() => reject(new Error(`inspector: ${method} timed out`)), 30_000);
      this.pending.set(id, (result) => {
        clearTimeout(timer);
        resolveCall(result as T);
      });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /**
   * The isolate's live JavaScript heap in bytes: what is still referenced after a full garbage
   * collection (what a leak keeps, and what the isolate's memory limit is about). workerd never
   * answers `HeapProfiler.collectGarbage`; a heap snapshot collects garbage first, so one is taken
   * (its chunks, a few MiB, are dropped unread) and the heap read right after it.
   */
  async heapAfterGc(): Promise<number> {
    await this.call('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    const { usedSize } = await this.call<{ usedSize: number }>('Runtime.getHeapUsage');
    return usedSize;
  }

  async start(samplingIntervalUs = 100): Promise<void> {
    await this.call('Profiler.enable');
    await this.call('Profiler.setSamplingInterval', { interval: samplingIntervalUs });
    await this.call('Profiler.start');
  }

  async stop(): Promise<CpuProfile> {
    const { profile } = await this.call<{ profile: CpuProfile }>('Profiler.stop');
    return profile;
  }

  close(): void {
    this.ws.close();
  }
}

/**
 * Self time per function, largest first. Positions inside the bundle are mapped to the original
 * file and line (`src/…`, or the npm package), so a minified bundle still reads.
 */
export function hotSpots(
  profile: CpuProfile,
  root: string,
  sourceMapPath?: string,
  top = 15,
): HotSpot[] {
  let map: SourceMap | undefined;
  if (sourceMapPath !== undefined) {
    try {
      map = new SourceMap(JSON.parse(readFileSync(sourceMapPath, 'utf8')) as never);
    } catch {
      map = undefined;
    }
  }
  const selfUs = new Map<number, number>();
  profile.samples.forEach((node, i) => {
    selfUs.set(node, (selfUs.get(node) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byWhat = new Map<string, number>();
  let busyUs = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    const f = node.callFrame;
    if (f.functionName === '(idle)') continue;
    busyUs += us;
    let where = f.url === '' ? '' : f.url.split('/').pop()!;
    if (map !== undefined && f.url !== '' && f.lineNumber >= 0) {
      const entry = map.findEntry(f.lineNumber, f.columnNumber) as {
        originalSource?: string;
        originalLine?: number;
      };
      if (entry.originalSource !== undefined) {
        const abs = resolve(resolve(sourceMapPath!, '..'), entry.originalSource);
        const rel = relative(root, abs);
        const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(rel);
        where = `${pkg ? `${pkg[1]}/${pkg[2]}` : rel}:${(entry.originalLine ?? 0) + 1}`;
      }
    }
    const what = `${f.functionName || '(anonymous)'}${where === '' ? '' : ` ${where}`}`;
    byWhat.set(what, (byWhat.get(what) ?? 0) + us);
  }
  return [...byWhat.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([what, us]) => ({
      what,
      selfMs: Math.round(us / 100) / 10,
      selfPct: busyUs === 0 ? 0 : Math.round((us / busyUs) * 1000) / 10,
    }));
}
