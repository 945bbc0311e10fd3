export * from './fake-telegram-server.js';
export * from './parse-telegram-html.js';
