// Trend charts: the series model, the PNG renderer and the terminal sparkline.
export * from './series.ts';
export { CLASS_COLOURS, CHART_COLOURS } from './colours.ts';
export { CHART_FONT_FAMILY, registerChartFont } from './fonts.ts';
export {
  renderTrendChart,
  renderSmallMultiples,
  chartTitle,
  MIN_CHART_WIDTH,
  MIN_CHART_HEIGHT,
  type ChartRenderOptions,
  type SmallMultiplesOptions,
} from './render.ts';
export { sparkline, sparklineLines, squeeze, MAX_SPARKLINE_WIDTH } from './sparkline.ts';
