import { Emitter } from './emitter.js';

/** A fake connection that becomes ready when `open()` is called. */
export class Connection extends Emitter {
  open() {
    this.emit('ready', { at: Date.now() });
  }

  /** Resolves on the next `ready` event. */
  whenReady() {
    return new Promise((resolve) => {
      const onReady = (info) => {
        this.off('ready', onReady);
        resolve(info);
      };
      this.on('ready', onReady);
    });
  }
}
