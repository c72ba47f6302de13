/** One configuration problem: the environment variable (or file) at fault and what is wrong with it. Never its value. */
import type { AreaCode, CodedError } from '../errors.js';
export interface ConfigIssue {
  variable: string;
  message: string;
}

export type ConfigErrorCode = AreaCode<'config'>;

export class ConfigError extends Error implements CodedError {
  override readonly name = 'ConfigError';
  readonly code: ConfigErrorCode;
  readonly issues: readonly ConfigIssue[];

  constructor(code: ConfigErrorCode, issues: readonly ConfigIssue[], heading = headingFor(code)) {
    super(`${heading}\n${issues.map((issue) => `  - ${issue.variable}: ${issue.message}`).join('\n')}`);
    this.code = code;
    this.issues = issues;
  }
}

function headingFor(code: ConfigErrorCode): string {
  switch (code) {
    case 'config_invalid':
      return 'Invalid configuration:';
    case 'config_not_production_ready':
      return 'Configuration is not ready for production (CHAOS_MODE=production):';
    case 'config_services_file_invalid':
      return 'Invalid service routing file:';
  }
}
