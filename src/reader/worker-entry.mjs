// The reader worker's entry: worker threads start without the main thread's TypeScript loader, so
// this plain module registers tsx and then loads the worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
