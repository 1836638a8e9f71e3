import type { EventOf } from '@infinity/contracts';
import type { Kysely, TablesOf } from '../../platform/db/index.js';
import type { EventSpine } from '../../platform/events/index.js';
import type { Logger } from '../../platform/logger.js';
import type { Mailer } from '../../platform/mail.js';
import type { AppModule } from '../../platform/module.js';
import type { OutboundHttp } from '../../platform/net/outbound-http.js';
import { type IdentityContext, currentAuthority } from '../identity/index.js';
import type { RecordsContext } from '../records/index.js';
import { claimMail, managerEmails, releaseMail } from '../usage/index.js';
import type { VaultContext } from '../vault/index.js';
import { type DeliveryContext, deliveriesFor, disableWebhook } from './webhooks.delivery.js';
import * as repo from './webhooks.repo.js';
import { webhookRoutes } from './webhooks.routes.js';
import { type Clock, WebhookSender, systemClock } from './webhooks.sender.js';
import { secretOf } from './webhooks.service.js';
import { SubscriptionIndex, WEBHOOK_EVENT_NAMES } from './webhooks.subscriptions.js';
import type { WebhookTables } from './webhooks.tables.js';

export interface WebhooksNeeds {
  db: Kysely<object>;
  events: EventSpine;
  vault: VaultContext;
  records: RecordsContext;
  identity: IdentityContext;
  outbound: OutboundHttp;
  logger: Logger;
  mailer: Mailer | null;
  publicUrl: string;
  clock?: Clock;
}

/** What tests (and the bench) reach: the sender (its clock, idle()) and the subscription index. */
export interface WebhooksHandle {
  sender: WebhookSender;
  index: SubscriptionIndex;
  /** Resolves once the subscriptions are loaded and no delivery is being sent in this process. */
  settled(): Promise<void>;
}

/**
 * Outbound webhooks (SPEC §6): subscriptions and their routes, the spine's durable `webhooks`
 * consumer that turns events into deliveries, and the sender every process runs.
 */
export function webhooksModule(n: WebhooksNeeds): AppModule & { handle: WebhooksHandle } {
  const db = n.db.withTables<TablesOf<WebhookTables>>();
  const index = new SubscriptionIndex();
  // The context and the sender refer to each other (the sender disables through the context).
  const ctx = {
    db,
    vault: n.vault,
    records: n.records,
    outbound: n.outbound,
    events: n.events,
    index,
    logger: n.logger,
    authorityOf: (hook: repo.WebhookWithSecret) =>
      currentAuthority(
        n.identity,
        hook.org_id,
        hook.creator_kind === 'apiKey' ? { kind: 'apiKey', apiKeyId: hook.creator_key_id ?? '' } : { kind: 'user', userId: hook.creator_user_id ?? '' },
      ),
  } as Omit<DeliveryContext, 'sender'> as DeliveryContext;
  ctx.sender = new WebhookSender({
    db,
    outbound: n.outbound,
    logger: n.logger,
    clock: n.clock ?? systemClock,
    secretOf: (hook) => secretOf(ctx, hook),
    authorityOf: ctx.authorityOf,
    disable: (hook, reason) => disableWebhook(ctx, hook, reason),
  });

  // Settles when the first load has run. The spine starts (and drains rows left by a crash) before
  // this module's services: a handler must wait for the load that start() runs, not for a promise
  // that start() replaces (a drain awaiting that one never finished, and stalled every consumer).
  let firstLoadDone!: () => void;
  const loaded = new Promise<void>((resolve) => (firstLoadDone = resolve));
  // While the first load runs, every event might be wanted: rows are written, and handle (which
  // waits for the load) drops what no subscription takes. Nothing committed meanwhile is missed.
  let loading = false;
  const load = async () => {
    index.beginLoad();
    index.finishLoad(await repo.enabledWebhooks(db));
  };
  // Registered at build time, in every process: a process writes outbox rows only for consumers it knows.
  n.events.consume({
    name: 'webhooks',
    types: WEBHOOK_EVENT_NAMES,
    wants: (e) => loading || index.matching(e).length > 0,
    // The executions queue's claim asks before it knows the organizations: only if someone subscribed.
    wantsType: (type) => loading || index.hasType(type),
    handle: async (e) => {
      // Delivered right after start-up (an outbox rescan): the subscriptions must be loaded first.
      await loaded;
      await deliveriesFor(ctx, [e]);
    },
    handleBatch: async (events) => {
      await loaded;
      await deliveriesFor(ctx, events);
    },
  });
  const mailer = n.mailer;
  if (mailer)
    n.events.consume({
      name: 'webhook-disabled-mail',
      types: ['notification.created'],
      wants: (e) => (e as EventOf<'notification.created'>).kind === 'webhook.disabled',
      handle: async (e) => {
        const note = await claimMail(db as never, e.orgId, (e as EventOf<'notification.created'>).notificationId);
        if (!note) return;
        try {
          const to = await managerEmails(db as never, e.orgId);
          if (to.length)
            await mailer.send({ to, subject: `[Infinity] ${note.title}`, text: `${note.body}\n\nSee webhooks: ${n.publicUrl}/settings/webhooks\n` });
        } catch (err) {
          await releaseMail(db as never, (e as EventOf<'notification.created'>).notificationId);
          throw err;
        }
      },
    });

  const off: (() => void)[] = [];
  const onChanged = async (e: EventOf<'webhook.changed'>) => {
    const row = await repo.findWebhook(db, e.orgId, e.webhookId);
    index.apply(row ? { row } : { deleted: e.webhookId });
  };
  return {
    name: 'webhooks',
    routes: [webhookRoutes(ctx)],
    handle: {
      sender: ctx.sender,
      index,
      settled: async () => {
        await loaded;
        await ctx.sender.idle();
      },
    },
    services: [
      {
        name: 'webhook subscriptions',
        start: async () => {
          off.push(
            n.events.subscribe('webhook.changed', (e) => onChanged(e)),
            // Changes may have been missed (the transport reconnected): read them all again.
            n.events.onResync(() => void load().catch((err: unknown) => n.logger.error({ err }, 'could not reload webhook subscriptions'))),
          );
          loading = true;
          try {
            await load();
          } finally {
            loading = false;
            firstLoadDone();
          }
        },
        stop: () => {
          for (const f of off.splice(0)) f();
        },
      },
      { name: 'webhook sender', start: () => ctx.sender.start(), stop: () => ctx.sender.stop() },
    ],
  };
}
