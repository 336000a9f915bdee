/**
 * The steps every emulated GHES route shares, in the order an appliance applies them: a reply
 * context (rate-limit window, request id, docs link), latency and faults, and the "commit, then
 * fail" answer that replaces a completed operation's own. Used by the app-token routes, the
 * Authorizations API and the web flow's token endpoint alike.
 */
import type { Context } from 'hono';
import { ConnectionDropped, type EmulatorCore } from './core';
import type { FaultEffect, OperationName } from './faults';
import type { RenderContext } from './render';
import {
  faultResponse,
  newRequestId,
  notFound,
  unsupportedApiVersion,
  type Reply,
} from './responses';
import { docsBase, featuresOf, SUPPORTED_API_VERSION } from './versions';

/** Hono bindings: `signal` lets emulator.fetch pass the caller's AbortSignal through. */
export interface EmulatorBindings {
  signal?: AbortSignal;
}
export type EmulatorEnv = { Bindings: EmulatorBindings };
export type Ctx = Context<EmulatorEnv>;

export type CommitThenFail = Extract<FaultEffect, { kind: 'commit_then_fail' }>;

export function signalOf(c: Ctx): AbortSignal | undefined {
  return c.env?.signal ?? c.req.raw.signal ?? undefined;
}

export function replyFor(core: EmulatorCore, docsUrl: string): Reply {
  const now = core.now();
  return {
    version: core.config.version,
    now,
    rate: core.rate.hit(now),
    requestId: newRequestId(),
    docsUrl,
  };
}

export function renderContext(core: EmulatorCore, c: Ctx): RenderContext {
  return { version: core.config.version, origin: core.config.baseUrl ?? new URL(c.req.url).origin };
}

/**
 * Applies latency and faults; returns the fault's answer, or undefined to go on. The latency is
 * served before the effect, as a slow failing upstream would.
 */
export async function applyFaults(
  core: EmulatorCore,
  c: Ctx,
  reply: Reply,
  op: OperationName | undefined,
): Promise<{ response?: Response; commitThenFail?: CommitThenFail }> {
  const plan = core.faults.take(op);
  const signal = signalOf(c);
  await core.sleep(plan.latencyMs, signal);
  const effect = plan.effect;
  if (!effect) return {};
  switch (effect.kind) {
    case 'status':
      return { response: faultResponse(reply, effect, core.bodyStreams) };
    case 'hang':
      return core.hang(signal);
    case 'drop':
      throw new ConnectionDropped();
    case 'commit_then_fail':
      return { commitThenFail: effect };
  }
}

/**
 * What every counted API route does first, in GHES's order: count the call, build its reply
 * helper, serve latency and faults, then refuse an unsupported `X-GitHub-Api-Version` (3.9+).
 * `response` set: answer with it and stop.
 */
export async function admit(
  core: EmulatorCore,
  c: Ctx,
  op: OperationName,
  docs: string,
): Promise<{ reply: Reply; response?: Response; commitThenFail?: CommitThenFail }> {
  core.count(op);
  const reply = replyFor(core, `${docsBase(core.config.version)}/${docs}`);
  const fault = await applyFaults(core, c, reply, op);
  if (fault.response) return { reply, response: fault.response };
  const apiVersion = c.req.header('x-github-api-version');
  if (
    apiVersion !== undefined &&
    featuresOf(core.config.version).apiVersions &&
    apiVersion !== SUPPORTED_API_VERSION
  )
    return { reply, response: unsupportedApiVersion(reply, apiVersion) };
  return fault.commitThenFail === undefined
    ? { reply }
    : { reply, commitThenFail: fault.commitThenFail };
}

/** The operation happened; its answer is lost (dropped) or replaced by the fault's. */
export function afterCommit(
  core: EmulatorCore,
  reply: Reply,
  fail: CommitThenFail | undefined,
  response: Response,
): Response {
  if (!fail) return response;
  if (fail.drop) throw new ConnectionDropped();
  return faultResponse(
    reply,
    {
      kind: 'status',
      status: fail.status,
      ...(fail.retryAfter !== undefined && { retryAfter: fail.retryAfter }),
      ...(fail.body !== undefined && { body: fail.body }),
      ...(fail.contentType !== undefined && { contentType: fail.contentType }),
    },
    core.bodyStreams,
  );
}

/** 404 for routes the configured release does not have (and anything else unknown). */
export async function apiNotFound(core: EmulatorCore, c: Ctx): Promise<Response> {
  const reply = replyFor(core, docsBase(core.config.version));
  const fault = await applyFaults(core, c, reply, undefined);
  if (fault.response) return fault.response;
  return notFound(reply);
}
