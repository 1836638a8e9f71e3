/** The server's version, shown in OpenAPI, /health and `infinity doctor`. */
export const VERSION = '0.1.0';
