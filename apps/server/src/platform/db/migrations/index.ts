import type { Migration } from 'kysely';
import * as m0001 from './0001-foundation.js';
import * as m0002 from './0002-models.js';
import * as m0003 from './0003-actions.js';
import * as m0004 from './0004-flows.js';
import * as m0005 from './0005-ai.js';
import * as m0006 from './0006-agents.js';
import * as m0007 from './0007-operations.js';
import * as m0008 from './0008-search-index.js';
import * as m0009 from './0009-search-column.js';
import * as m0010 from './0010-service-keys.js';
import * as m0011 from './0011-secret-hosts.js';
import * as m0012 from './0012-versions.js';
import * as m0013 from './0013-exactly-once.js';
import * as m0014 from './0014-outbox.js';
import * as m0016 from './0016-notification-mail.js';
import * as m0017 from './0017-realtime.js';
import * as m0018 from './0018-webhooks.js';

/**
 * System migrations in order. Names sort lexically; never rename or edit one that has shipped:
 * add a new one. Each must run on PostgreSQL 15+ and on PGlite (PostgreSQL 18).
 */
export const systemMigrations: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_models': m0002,
  '0003_actions': m0003,
  '0004_flows': m0004,
  '0005_ai': m0005,
  '0006_agents': m0006,
  '0007_operations': m0007,
  '0008_search_index': m0008,
  '0009_search_column': m0009,
  '0010_service_keys': m0010,
  '0011_secret_hosts': m0011,
  '0012_versions': m0012,
  '0013_exactly_once': m0013,
  '0014_outbox': m0014,
  '0016_notification_mail': m0016,
  '0017_realtime': m0017,
  '0018_webhooks': m0018,
};
