import type { ApolloServerPlugin } from '@apollo/server';
import { ASTVisitor, DocumentNode, FragmentDefinitionNode, GraphQLError, GraphQLSchema, Kind, SelectionSetNode, TypeInfo, ValidationContext, visit, visitWithTypeInfo } from 'graphql';
import { fieldExtensionsEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';

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
 * Apollo plugin: estimates each operation's cost before it runs (graphql-query-complexity: the
 * `complexity` set on fields, which multiplies list fields by their n or first, and 1 for any
 * other field) and refuses those above `maxComplexity` with HTTP 400.
 *
 * A cost depends only on the document, the operation and the values of its {@link costVariables},
 * and Apollo hands out the same DocumentNode for a query text it has seen (its parsed-document
 * cache), so costs are kept per document keyed by those: `prediction(userId: $u, movieId: $m)`
 * is estimated once, whatever the ids. (Estimating took ~45 µs of the ~470 µs a prediction query
 * cost the server; tools/bench/api-bench.ts.)
 */
export function complexityLimitPlugin(schema: GraphQLSchema, maxComplexity: number): ApolloServerPlugin {
  const byDocument = new WeakMap<DocumentNode, DocumentCosts>();
  const estimators = [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })];
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, operationName }) {
          let entry = byDocument.get(document);
          if (!entry) byDocument.set(document, (entry = { variables: costVariables(schema, document), costs: new Map() }));
          const variables = request.variables ?? {};
          // Only the variables sent (a missing one and an explicit null can cost differently).
          const values: Record<string, unknown> = {};
          for (const name of entry.variables) if (Object.hasOwn(variables, name)) values[name] = variables[name];
          const key = `${operationName ?? ''}\u0000${JSON.stringify(values)}`;
          let complexity = entry.costs.get(key);
          if (complexity === undefined) {
            try {
              complexity = getComplexity({ schema, query: document, operationName: operationName ?? undefined, variables, estimators });
            } catch {
              // Missing or ill-typed variables: execution reports them as BAD_USER_INPUT (HTTP 400).
              return;
            }
            if (key.length <= LONGEST_COST_KEY) {
              if (entry.costs.size >= COSTS_PER_DOCUMENT) entry.costs.clear();
              entry.costs.set(key, complexity);
            }
          }
          if (complexity > maxComplexity) {
            throw new GraphQLError(`query complexity ${complexity} exceeds the limit of ${maxComplexity} (lists cost their n or first times their selection)`, {
              extensions: { code: 'GRAPHQL_VALIDATION_FAILED', complexity, maxComplexity, http: { status: 400 } },
            });
          }
        },
      };
    },
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
