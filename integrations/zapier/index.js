// @ts-check
'use strict';

/**
 * The Infinity app for Zapier: API-key connection, New/Updated Record REST-hook triggers (with a
 * polling fallback for samples), Find Record, and Create Record, Update Record, Run Action and Run
 * Flow, their fields read from the model and action definitions. docs/integrations/zapier.md.
 */
const { version: platformVersion } = require('zapier-platform-core');
const { version } = require('./package.json');
const { addApiKey, authentication, raiseInfinityErrors } = require('./lib/auth');
const creates = require('./lib/creates');
const searches = require('./lib/searches');
const triggers = require('./lib/triggers');

module.exports = {
  version,
  platformVersion,
  authentication,
  beforeRequest: [addApiKey],
  afterResponse: [raiseInfinityErrors],
  triggers,
  searches,
  creates,
};
