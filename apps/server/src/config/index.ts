export { loadConfig, ConfigError, envSchema, type Config, type ConfigOverrides } from './config.js';
export { resolveInstanceKeys, masterKeyFromBase64, readKeyFile, writeKeyFile, keyFilePath, type InstanceKeys, type MasterKey } from './keys.js';
export { DEFAULT_PLAN_LIMITS, METRICS, PLAN_NAMES, type Limits, type Metric, type PlanLimits, type PlanName } from './plans.js';
