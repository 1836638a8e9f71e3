export { loadConfig, ConfigError, envSchema, type Config, type ConfigOverrides } from './config.js';
export {
  resolveInstanceKeys,
  masterKeyFromBase64,
  readKeyFile,
  writeKeyFile,
  keyFilePath,
  type InstanceKeys,
  type MasterKey,
} from './keys.js';
