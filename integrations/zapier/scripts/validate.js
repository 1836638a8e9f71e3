// @ts-check
'use strict';

/**
 * `zapier-platform validate --without-style`, offline: the Zapier CLI's structural validation of the
 * app (its JSON schema, run by zapier-platform-core on the loaded app), without the style checks that
 * call Zapier's servers. Analytics and the update check are turned off, so nothing leaves the machine.
 *
 * NB: zapier-platform-cli 19 refuses Node < 22 in an oclif `init` hook (checkValidNodeVersion:
 * Zapier's Lambda runs 22) although validating needs nothing of it, and this project runs Node 20.
 * On Node ≥ 22 this runs the CLI binary as a user types it; on older Node it runs the same `validate`
 * command through oclif with only that hook taken out. Exits with the command's status.
 */
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const appDir = path.resolve(__dirname, '..');
const cliDir = path.dirname(require.resolve('zapier-platform-cli/package.json', { paths: [appDir] }));
const args = ['validate', '--without-style', ...process.argv.slice(2)];
Object.assign(process.env, { DISABLE_ZAPIER_ANALYTICS: '1', NO_UPDATE_NOTIFIER: '1' });

async function main() {
  process.chdir(appDir);
  if (Number(process.versions.node.split('.')[0]) >= 22) {
    const r = spawnSync(process.execPath, [path.join(cliDir, 'src/bin/run'), ...args], { stdio: 'inherit', env: process.env });
    process.exitCode = r.status ?? 1;
    return;
  }
  /** @type {typeof import('@oclif/core')} */
  const oclif = require(require.resolve('@oclif/core', { paths: [cliDir] }));
  const config = await oclif.Config.load(cliDir);
  for (const plugin of config.getPluginsList()) {
    const init = plugin.hooks.init;
    if (init) plugin.hooks.init = init.filter((hook) => !String(typeof hook === 'string' ? hook : hook.target).includes('checkValidNodeVersion'));
  }
  await oclif.run(args, config);
  await oclif.flush();
}

main().catch((/** @type {unknown} */ err) => {
  console.error(err);
  process.exitCode = 1;
});
