import { InProcessBus } from '../../src/transport/in-process-bus.ts';
import { busConformance } from './bus-conformance.ts';

busConformance('in-process', () => {
  const bus = new InProcessBus();
  return Promise.resolve({
    client: bus,
    server: bus,
    settle: () => Promise.resolve(),
    close: () => bus.close(),
  });
});
