import type { ApolloServerPlugin } from '@apollo/server';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  ASTVisitor,
  DocumentNode,
  FragmentDefinitionNode,
  GraphQLError,
  GraphQLSchema,
  Kind,
  ParseOptions,
  SelectionSetNode,
  TypeInfo,
  ValidationContext,
  ValidationRule,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import { ComplexityEstimator, fieldExtensionsEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';

/**
 * The limits every operation meets, over HTTP and over WebSocket alike, besides the body size
 * (`ApiConfig.bodyLimit`, also the WebSocket's largest message), the depth and the cost
 * (`ApiConfig.maxDepth`, `maxComplexity`). Defaults in {@link DEFAULT_GUARD_LIMITS}; each has a
 * `RECSYS_*` environment variable ({@link guardLimitsFromEnv}).
 */
export interface GuardLimits {
  /** Aliased fields per operation, fragments included (`__typename` aliases are free): `RECSYS_MAX_ALIASES`. */
  maxAliases: number;
  /** Lexical tokens per document (the parser stops there): `RECSYS_MAX_TOKENS`. */
  maxTokens: number;
  /** Directives per operation: `RECSYS_MAX_DIRECTIVES`. */
  maxDirectives: number;
  /** Cost of one `__schema` field on top of its selection's (it answers the whole schema): `RECSYS_SCHEMA_COST`. */
  schemaCost: number;
  /** Cost of one `__type` field on top of its selection's: `RECSYS_TYPE_COST`. */
  typeCost: number;
  /** Operations (subscriptions, and queries while they run) at once on one WebSocket: `RECSYS_MAX_SUBSCRIPTIONS`. */
  maxSubscriptionsPerSocket: number;
  /** Time budget of a query or mutation in ms; past it the work not yet done is refused with code TIMEOUT: `RECSYS_OPERATION_TIMEOUT_MS`. */
  operationTimeoutMs: number;
}

export const DEFAULT_GUARD_LIMITS: Readonly<GuardLimits> = Object.freeze({
  maxAliases: 30,
  maxTokens: 15_000,
  maxDirectives: 50,
  schemaCost: 5_000,
  typeCost: 500,
  maxSubscriptionsPerSocket: 10,
  operationTimeoutMs: 10_000,
});

/** An integer environment variable in min..max, or `fallback` when unset or empty; anything else throws. */
export function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const text = env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be an integer in ${min}..${max}, got "${text}"`);
  return value;
}

/** {@link DEFAULT_GUARD_LIMITS} with the `RECSYS_*` overrides of `env`. */
export function guardLimitsFromEnv(env: NodeJS.ProcessEnv): GuardLimits {
  const d = DEFAULT_GUARD_LIMITS;
  return {
    maxAliases: intFromEnv(env, 'RECSYS_MAX_ALIASES', d.maxAliases),
    maxTokens: intFromEnv(env, 'RECSYS_MAX_TOKENS', d.maxTokens, 1),
    maxDirectives: intFromEnv(env, 'RECSYS_MAX_DIRECTIVES', d.maxDirectives),
    schemaCost: intFromEnv(env, 'RECSYS_SCHEMA_COST', d.schemaCost),
    typeCost: intFromEnv(env, 'RECSYS_TYPE_COST', d.typeCost),
    maxSubscriptionsPerSocket: intFromEnv(env, 'RECSYS_MAX_SUBSCRIPTIONS', d.maxSubscriptionsPerSocket, 1),
    operationTimeoutMs: intFromEnv(env, 'RECSYS_OPERATION_TIMEOUT_MS', d.operationTimeoutMs, 1),
  };
}

/** Bytes of a size in body-parser's syntax (`100kb`, `1mb`, `5000`; units of 1024, as the `bytes` package reads them). */
export function byteSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(text);
  if (!match) throw new Error(`a size must look like 100kb or 1mb, got "${text}"`);
  const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(match[2] ?? 'b').toLowerCase() as 'b'];
  return Math.floor(Number(match[1]) * unit);
}

/** A GraphQL validation error with code GRAPHQL_VALIDATION_FAILED (and HTTP 400 under Apollo). */
function validationError(message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED', ...extensions } });
}

/**
 * A graphql-armor counting rule (max-aliases, max-directives) made to report our error instead of
 * throwing its own: `what` found over the limit.
 */
function armorRule(make: (options: { n: number; propagateOnRejection: false; exposeLimits: true; onReject: Array<(ctx: ValidationContext | null, error: GraphQLError) => void> }) => ValidationRule, what: string, limit: number): ValidationRule {
  return make({
    n: limit,
    propagateOnRejection: false,
    exposeLimits: true,
    onReject: [
      (context, error) => {
        const found = /found (\d+)/.exec(error.message)?.[1];
        context?.reportError(validationError(`${found ?? 'too many'} ${what} exceed the limit of ${limit}`, { limit, found: found === undefined ? undefined : Number(found) }));
      },
    ],
  });
}

/**
 * Validation rule: refuses operations whose selections nest deeper than `maxDepth` (fragments
 * followed). Introspection fields (`__schema`, `__type`) are not descended into: their nesting is
 * fixed by the GraphQL spec (GraphiQL's introspection query is 15 deep) and costs nothing.
 */
export function depthLimitRule(maxDepth: number) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const def of context.getDocument().definitions) {
      if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    }
    const depthOf = (set: SelectionSetNode | undefined, depth: number, seen: Set<string>): number => {
      if (!set) return depth;
      let deepest = depth;
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) {
          if (sel.name.value.startsWith('__')) {
            deepest = Math.max(deepest, depth + 1);
            continue;
          }
          deepest = Math.max(deepest, sel.selectionSet ? depthOf(sel.selectionSet, depth + 1, seen) : depth + 1);
        } else if (sel.kind === Kind.INLINE_FRAGMENT) {
          deepest = Math.max(deepest, depthOf(sel.selectionSet, depth, seen));
        } else {
          const name = sel.name.value;
          const frag = fragments.get(name);
          if (frag && !seen.has(name)) deepest = Math.max(deepest, depthOf(frag.selectionSet, depth, new Set([...seen, name])));
        }
      }
      return deepest;
    };
    return {
      OperationDefinition(node) {
        const depth = depthOf(node.selectionSet, 0, new Set());
        if (depth > maxDepth) {
          context.reportError(
            new GraphQLError(`query depth ${depth} exceeds the limit of ${maxDepth}`, { nodes: [node], extensions: { code: 'GRAPHQL_VALIDATION_FAILED', depth, maxDepth } }),
          );
        }
      },
    };
  };
}

/**
 * The variables whose values can change a document's estimated cost: every variable it uses except
 * those used only in arguments of fields with a constant cost (a number `complexity`, or none, which
 * costs 1). Arguments of fields with a cost function (n, first, pairs …) and of directives
 * (`@include(if: $x)`, `@skip`) count.
 */
export function costVariables(schema: GraphQLSchema, document: DocumentNode): string[] {
  const typeInfo = new TypeInfo(schema);
  const names = new Set<string>();
  // For each argument being visited: whether it belongs to a constant-cost field.
  const constantArgument: boolean[] = [];
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      VariableDefinition: () => false,
      Argument: {
        enter() {
          const field = typeInfo.getFieldDef();
          constantArgument.push(typeInfo.getDirective() === null && field !== null && field !== undefined && typeof field.extensions?.complexity !== 'function');
        },
        leave() {
          constantArgument.pop();
        },
      },
      Variable(node) {
        if (constantArgument[constantArgument.length - 1] !== true) names.add(node.name.value);
      },
    }),
  );
  return [...names].sort();
}

/** Costs kept per document: its {@link costVariables} and the costs estimated so far. */
interface DocumentCosts {
  variables: readonly string[];
  /** By operation name and the values of `variables`. */
  costs: Map<string, number>;
}

/** Most costs kept per document (then they are dropped and gathered again), and longest key kept. */
const COSTS_PER_DOCUMENT = 256;
const LONGEST_COST_KEY = 2000;

/**
 * Cost of the introspection meta-fields: `__schema` and `__type` answer a whole schema or type
 * (a `__schema { types { fields { args … } } } }` is ~40 kB here), so each costs its fixed price
 * on top of its selection's; graphql-js's own MaxIntrospectionDepthRule (in `specifiedRules`)
 * bounds how deep one may nest `fields`/`interfaces`/`possibleTypes`/`inputFields`.
 */
export function introspectionEstimator(schemaCost: number, typeCost: number): ComplexityEstimator {
  return ({ field, childComplexity }) => {
    if (field.name === '__schema') return schemaCost + childComplexity;
    if (field.name === '__type') return typeCost + childComplexity;
    return undefined;
  };
}

/**
 * The estimated cost of operations (graphql-query-complexity: the `complexity` set on fields,
 * which multiplies list fields by their n or first; {@link introspectionEstimator}'s for
 * `__schema`/`__type`; 1 for any other field; aliases each count), with the estimates kept per
 * document.
 *
 * A cost depends only on the document, the operation and the values of its {@link costVariables},
 * and Apollo hands out the same DocumentNode for a query text it has seen (its parsed-document
 * cache), so costs are kept per document keyed by those: `prediction(userId: $u, movieId: $m)`
 * is estimated once, whatever the ids. (Estimating took ~45 µs of the ~470 µs a prediction query
 * cost the server; tools/bench/api-bench.ts.)
 */
export class CostMeter {
  private readonly byDocument = new WeakMap<DocumentNode, DocumentCosts>();
  private readonly estimators: ComplexityEstimator[];

  constructor(
    private readonly schema: GraphQLSchema,
    readonly maxComplexity: number,
    limits: Pick<GuardLimits, 'schemaCost' | 'typeCost'> = DEFAULT_GUARD_LIMITS,
  ) {
    this.estimators = [introspectionEstimator(limits.schemaCost, limits.typeCost), fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })];
  }

  /** The estimated cost, or undefined when the variables are missing or ill-typed (execution reports them). */
  cost(document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown> | null | undefined): number | undefined {
    let entry = this.byDocument.get(document);
    if (!entry) this.byDocument.set(document, (entry = { variables: costVariables(this.schema, document), costs: new Map() }));
    const given = variables ?? {};
    // Only the variables sent (a missing one and an explicit null can cost differently).
    const values: Record<string, unknown> = {};
    for (const name of entry.variables) if (Object.hasOwn(given, name)) values[name] = given[name];
    const key = `${operationName ?? ''}\u0000${JSON.stringify(values)}`;
    let complexity = entry.costs.get(key);
    if (complexity === undefined) {
      try {
        complexity = getComplexity({ schema: this.schema, query: document, operationName: operationName ?? undefined, variables: given, estimators: this.estimators });
      } catch {
        return undefined;
      }
      if (key.length <= LONGEST_COST_KEY) {
        if (entry.costs.size >= COSTS_PER_DOCUMENT) entry.costs.clear();
        entry.costs.set(key, complexity);
      }
    }
    return complexity;
  }

  /** The error refusing an operation over the limit, or null when it is within it. */
  check(document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown> | null | undefined): GraphQLError | null {
    const complexity = this.cost(document, operationName, variables);
    if (complexity === undefined || complexity <= this.maxComplexity) return null;
    return validationError(`query complexity ${complexity} exceeds the limit of ${this.maxComplexity} (lists cost their n or first times their selection; __schema and __type cost extra)`, {
      complexity,
      maxComplexity: this.maxComplexity,
      http: { status: 400 },
    });
  }
}

/**
 * Apollo plugin: refuses operations whose {@link CostMeter} estimate is above its limit with HTTP
 * 400 before they run (after parsing and validation, once the operation and variables are known).
 */
export function complexityLimitPlugin(meter: CostMeter): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, operationName }) {
          const error = meter.check(document, operationName, request.variables);
          if (error) throw error;
        },
      };
    },
  };
}

/**
 * One guard for every transport: the parse options (token limit), the validation rules (depth,
 * aliases, directives; graphql's specified rules are added by Apollo and by the WebSocket server)
 * and the cost meter, built once per server and given to Apollo (`parseOptions`,
 * `validationRules`, {@link complexityLimitPlugin}) and to graphql-ws's `onSubscribe` alike.
 */
export interface OperationGuard {
  limits: GuardLimits;
  parseOptions: ParseOptions;
  validationRules: ValidationRule[];
  cost: CostMeter;
}

export function operationGuard(schema: GraphQLSchema, options: { maxDepth: number; maxComplexity: number; limits: GuardLimits }): OperationGuard {
  const { limits } = options;
  return {
    limits,
    parseOptions: { maxTokens: limits.maxTokens },
    validationRules: [
      depthLimitRule(options.maxDepth),
      armorRule(maxAliasesRule as never, 'aliases', limits.maxAliases),
      armorRule(maxDirectivesRule as never, 'directives', limits.maxDirectives),
    ],
    cost: new CostMeter(schema, options.maxComplexity, limits),
  };
}

/** Apollo plugin: a subscription sent over HTTP gets a clear 400 (they run over graphql-ws on the same path). */
export function subscriptionsOverWebSocketPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation === 'subscription') {
            throw new GraphQLError('subscriptions run over WebSocket (the graphql-ws protocol) at ws://<host>/graphql, not over HTTP', {
              extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}
