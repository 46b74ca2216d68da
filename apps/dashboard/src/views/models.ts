import { DashModelsDocument } from '@recsys/client';
import { renderChart } from '@recsys/charts';
import { client } from '../api';
import { fmt, h, replace, table } from '../dom';
import { metricsSpec, ModelRow } from '../specs';
import type { ViewContext } from './view';

/** Every stored model with its held-out metrics side by side; the active rating and ranking models marked. */
export async function modelsView(ctx: ViewContext): Promise<void> {
  const { models, activeModels } = await client().request(DashModelsDocument, {});
  if (ctx.stale()) return;
  const activeIds = new Set([activeModels.rating.id, activeModels.ranking.id]);
  const nodes = models.edges.map((e) => e.node);
  const rows: ModelRow[] = nodes.map((m) => ({ id: m.id, kind: m.kind, role: m.role, active: activeIds.has(m.id), metrics: m.metrics }));
  const rating = rows.filter((m) => m.role === 'RATING');
  const ranking = rows.filter((m) => m.role === 'RANKING');
  const activeNote = (id: string, role: string) => (nodes.some((m) => m.id === id) ? null : h('li', {}, `The active ${role} model ${id} is not stored (it was fitted at startup and serves from memory).`));
  replace(
    ctx.main,
    h('h1', {}, 'Models'),
    h('p', {}, `${fmt(models.totalCount)} models trained on the loaded data. Held-out figures are those of the guard fit (a seeded 2 % slice).`),
    h('ul', { class: 'note' }, activeNote(activeModels.rating.id, 'rating'), activeNote(activeModels.ranking.id, 'ranking')),
    h(
      'div',
      { class: 'grid' },
      rating.length > 0
        ? renderChart(metricsSpec('Rating models: held-out RMSE and MAE', rating, [{ key: 'heldOutRmse', name: 'RMSE' }, { key: 'heldOutMae', name: 'MAE' }], 'Lower is better; the active model is emphasised.'))
        : h('p', {}, 'No stored rating model.'),
      ranking.length > 0
        ? renderChart(metricsSpec('Ranking models: held-out NDCG@10', ranking, [{ key: 'heldOutNdcg', name: 'NDCG@10' }], 'Higher is better; the active model is emphasised.'))
        : h('p', {}, 'No stored ranking model.'),
    ),
    table(
      ['model', 'kind', 'role', 'trained', 'held-out RMSE', 'held-out MAE', 'held-out NDCG@10', 'reference', 'active'],
      nodes.map((m) => {
        const active = activeIds.has(m.id);
        const ref = m.metrics.referenceKind ? `${m.metrics.referenceKind}: ${fmt(m.metrics.referenceRmse ?? m.metrics.referenceNdcg, 4)}` : m.metrics.referenceNdcg !== null ? `popular: ${fmt(m.metrics.referenceNdcg, 4)}` : '–';
        return [m.id, m.kind.toLowerCase(), m.role.toLowerCase(), m.trainedAt.replace('T', ' ').slice(0, 19), fmt(m.metrics.heldOutRmse, 4), fmt(m.metrics.heldOutMae, 4), fmt(m.metrics.heldOutNdcg, 4), ref, active ? h('strong', { class: 'active' }, `active ${m.role.toLowerCase()}`) : ''];
      }),
      'Every stored model',
    ),
  );
}
