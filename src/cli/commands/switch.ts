// `vireo switch serve`: a switch that VM processes on this host join with
// `vireo run --net switch:PATH`, served until interrupted (the host agent serves its own).

import { parseArgs } from 'node:util';
import { IcmpResponder } from '../../net/icmp-responder.js';
import { ipv4Address } from '../../net/ipv4.js';
import { macAddress } from '../../net/mac-address.js';
import { SwitchServer } from '../../net/switch-socket/switch-server.js';
import { UsageError } from '../usage-error.js';
import { HOST_MAC } from '../../vm/virtual-machine.js';

export const SWITCH_HELP = `Usage: vireo switch serve --socket PATH [--responder IP]

Serves a virtual switch on the Unix socket PATH (mode 0600) until interrupted. Every
'vireo run --net switch:PATH' joins it with a port of its own, so VMs in separate
processes share one Ethernet segment.

Options:
  --socket PATH      Where to serve the switch (a stale socket there is replaced)
  --responder IP     Answer ARP and ping at IP on the switch (e.g. 10.0.2.2)
  -h, --help         Show this help
`;

export async function switchCommand(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === '--help' || verb === '-h') {
    process.stdout.write(SWITCH_HELP);
    return 0;
  }
  if (verb !== 'serve') throw new UsageError('switch', verb === undefined ? 'no verb given; the verb is serve' : `unknown verb '${verb}'; the verb is serve`);
  let values;
  try {
    ({ values } = parseArgs({ args: rest, strict: true, allowPositionals: false, options: { socket: { type: 'string' }, responder: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    throw new UsageError('switch', (e as Error).message);
  }
  if (values.help) {
    process.stdout.write(SWITCH_HELP);
    return 0;
  }
  if (values.socket === undefined || values.socket === '') throw new UsageError('switch', 'serve needs --socket PATH');
  let ip;
  try {
    ip = values.responder === undefined ? undefined : ipv4Address(values.responder);
  } catch (e) {
    throw new UsageError('switch', `--responder: ${(e as Error).message}`);
  }
  const log = (line: string): void => void process.stderr.write(`vireo switch: ${line}\n`);
  let server: SwitchServer;
  try {
    server = await SwitchServer.listen(values.socket, { log });
  } catch (e) {
    process.stderr.write(`vireo switch: ${(e as Error).message}\n`);
    return 1;
  }
  if (ip !== undefined) new IcmpResponder(server.switch, { mac: macAddress(HOST_MAC), ip, delivery: 'microtask' });
  log(`serving on ${values.socket}${ip !== undefined ? `, answering ARP and ping at ${ip}` : ''}; Ctrl-C stops it`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  return 0;
}
