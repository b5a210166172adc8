import { Type } from '@sinclair/typebox';
import { BROKER_KINDS } from '../core/triggers.js';

/** Schemas of destinations: on a version, on a submit and on a trigger alike. */
const strict = { additionalProperties: false } as const;
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });

/** One destination: exactly one of its three kinds (a single object, so an error names the field inside it). */
export const DestinationBody = Type.Object(
  {
    webhook: Type.Optional(Type.Object({ url: Text(2048), secret: Type.String({ minLength: 1, maxLength: 256, description: 'whsec_ and base64, as Standard Webhooks writes it' }) }, strict)),
    publish: Type.Optional(
      Type.Object({ broker: Type.Union(BROKER_KINDS.map((k) => Type.Literal(k))), url: Text(2048), subject: Type.String({ minLength: 1, maxLength: 1024, description: 'the NATS subject, Redis stream, AMQP exchange/routing key or MQTT topic' }) }, strict),
    ),
    function: Type.Optional(Type.Object({ functionId: Text(128), versionId: Type.Optional(Text(128)), input: Type.Optional(Type.Unknown({ description: 'a template over the ended task (see triggers)' })) }, strict)),
    workflow: Type.Optional(Type.Object({ workflowId: Text(128), versionId: Type.Optional(Text(128)), input: Type.Optional(Type.Unknown({ description: 'a template over the ended task: the execution’s input' })) }, strict)),
  },
  { ...strict, minProperties: 1, maxProperties: 1, description: 'one of webhook, publish, function or workflow' },
);

export const DestinationsBody = Type.Object(
  {
    onSuccess: Type.Optional(DestinationBody),
    onFailure: Type.Optional(DestinationBody),
    includeCancelled: Type.Optional(Type.Boolean({ description: 'onFailure also for cancelled tasks' })),
    maxDeliveryHours: Type.Optional(Type.Integer({ minimum: 1, maximum: 168, description: 'how long a delivery is retried (default 24)' })),
  },
  strict,
);
