export * from './errors.js';
export * from './memory.js';
export * from './ports.js';
export * from './processes.js';
export * from './sandbox.js';
export * from './task.js';
export * from './task-event.js';
