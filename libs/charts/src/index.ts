export * from './spec';
export * from './render';
export { renderReportDocument } from './report';
