// The script inlined into the CLI's `--report FILE.html` files (bundled by tools/build-web.js to
// dist/web/report.js): reads the ReportDocument from <script type="application/json"
// id="report-data"> and draws it with renderChart and plain tables. Nothing is fetched.
import { renderReport } from './report';

renderReport(document);
