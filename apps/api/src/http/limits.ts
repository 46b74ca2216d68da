import type { ApolloServerPlugin } from '@apollo/server';
import { ASTVisitor, FragmentDefinitionNode, GraphQLError, Kind, SelectionSetNode, ValidationContext, GraphQLSchema } from 'graphql';
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
 * Apollo plugin: estimates each operation's cost before it runs (graphql-query-complexity: the
 * `complexity` set on fields, which multiplies list fields by their n or first, and 1 for any
 * other field) and refuses those above `maxComplexity` with HTTP 400.
 */
export function complexityLimitPlugin(schema: GraphQLSchema, maxComplexity: number): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, operationName }) {
          let complexity: number;
          try {
            complexity = getComplexity({
              schema,
              query: document,
              operationName: operationName ?? undefined,
              variables: request.variables ?? {},
              estimators: [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })],
            });
          } catch {
            // Missing or ill-typed variables: execution reports them as BAD_USER_INPUT (HTTP 400).
            return;
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
