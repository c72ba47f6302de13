/** One configuration problem: the environment variable (or file) at fault and what is wrong with it. Never its value. */
export interface ConfigIssue {
  variable: string;
  message: string;
}

export type ConfigErrorCode = 'CONFIG_INVALID' | 'CONFIG_NOT_PRODUCTION_READY' | 'SERVICES_FILE_INVALID';

export class ConfigError extends Error {
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
    case 'CONFIG_INVALID':
      return 'Invalid configuration:';
    case 'CONFIG_NOT_PRODUCTION_READY':
      return 'Configuration is not ready for production (CHAOS_MODE=production):';
    case 'SERVICES_FILE_INVALID':
      return 'Invalid service routing file:';
  }
}
