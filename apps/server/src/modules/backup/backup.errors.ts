import { defineErrors } from '../../platform/errors.js';

export const backupErrors = defineErrors({
  BACKUP_ARCHIVE_INVALID: {
    status: 422,
    description: 'The archive is truncated, altered, or not an Infinity backup (its checksum or row counts do not match); nothing was restored.',
  },
  BACKUP_TARGET_NOT_EMPTY: {
    status: 409,
    description: 'A whole-instance restore needs an empty database; an organization restore needs that organization to be absent.',
  },
  BACKUP_ORG_NOT_FOUND: { status: 404, description: 'The organization to back up does not exist on this instance.' },
  BACKUP_VERSION_UNSUPPORTED: { status: 422, description: 'The archive was written by a newer Infinity (format or migrations this version does not know).' },
});
