/** The static documents the query function serves: the dashboard page and the OpenAPI document. */
export interface QueryDocuments {
  /** The dashboard: one HTML page with its script and styles inline. */
  dashboardHtml(): Promise<string>;
  /** The OpenAPI 3.1 document as JSON. */
  openApi(): Promise<unknown>;
}
