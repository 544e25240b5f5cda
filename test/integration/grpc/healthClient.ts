/** Minimal clients for grpc.health.v1 and grpc.reflection.v1, loaded from the packages' own protos. */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProto } from 'grpc-health-check';

const reflectionProto = require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
type Ctor = new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ClientOptions) => grpc.Client;
type Stream = grpc.ClientDuplexStream<object, object>;
const pkg = grpc.loadPackageDefinition(
  protoLoader.loadSync([healthProto, reflectionProto], { keepCase: false, enums: String }),
) as unknown as {
  grpc: { health: { v1: { Health: Ctor } }; reflection: { v1: { ServerReflection: Ctor } } };
};
type HealthStub = grpc.Client & { check(req: { service: string }, cb: (err: Error | null, res: { status: string }) => void): void };
type ReflectionStub = grpc.Client & { serverReflectionInfo(): Stream };

export class HealthClient {
  readonly client: grpc.Client;
  private readonly reflection: grpc.Client;

  constructor(address: string, creds = grpc.credentials.createInsecure(), options: grpc.ClientOptions = {}) {
    this.client = new pkg.grpc.health.v1.Health(address, creds, options);
    this.reflection = new pkg.grpc.reflection.v1.ServerReflection(address, creds, options);
  }

  close(): void {
    this.client.close();
    this.reflection.close();
  }

  check(service: string): Promise<string> {
    return new Promise((resolve, reject) =>
      (this.client as HealthStub).check({ service }, (err: Error | null, res: { status: string }) =>
        err ? reject(err) : resolve(res.status),
      ),
    );
  }

  /** Serialized FileDescriptorProtos of the file defining `symbol`. */
  fileContaining(symbol: string): Promise<Buffer[]> {
    return new Promise((resolve, reject) => {
      const stream = (this.reflection as ReflectionStub).serverReflectionInfo();
      stream.on('data', (msg: { fileDescriptorResponse?: { fileDescriptorProto: Buffer[] } }) => {
        resolve(msg.fileDescriptorResponse?.fileDescriptorProto.map((b) => Buffer.from(b)) ?? []);
        stream.end();
      });
      stream.on('error', reject);
      stream.write({ fileContainingSymbol: symbol });
    });
  }

  listServices(): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const stream = (this.reflection as ReflectionStub).serverReflectionInfo();
      stream.on('data', (msg: { listServicesResponse?: { service: Array<{ name: string }> } }) => {
        resolve(msg.listServicesResponse?.service.map((s) => s.name) ?? []);
        stream.end();
      });
      stream.on('error', reject);
      stream.write({ listServices: '*' });
    });
  }
}
