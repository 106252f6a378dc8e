// Lists, creates, patches and imports through the generated types, without a single cast: if the OpenAPI
// document stops matching what a client needs, this file stops compiling (the test suite runs `npm run check`).
import createClient from "openapi-fetch";
import type { components, paths } from "./leads-api.js";

type Lead = components["schemas"]["LeadDetail"];

export async function tour(baseUrl: string, apiKey: string, csv: string): Promise<Lead | undefined> {
  const api = createClient<paths>({ baseUrl, headers: { "X-API-Key": apiKey } });
  const list = await api.GET("/api/leads", { params: { query: { status: "qualified", limit: "20" } } });
  for (const lead of list.data?.data ?? []) console.log(lead.id, lead.email, lead.status satisfies Lead["status"], lead.score);

  const created = await api.POST("/api/leads", {
    params: { header: { "Idempotency-Key": "create-ada-1" } },
    body: { email: "ada@example.com", firstName: "Ada", phone: "+1234567890", metadata: { plan: "pro" } },
  });
  if (created.error) throw new Error(`${created.error.code}: ${created.error.detail ?? created.error.title}`);
  console.log(created.data.metadata["plan"], created.response.headers.get("Location"));

  const etag = created.response.headers.get("ETag") ?? "*";
  const patched = await api.PATCH("/api/leads/{id}", {
    params: { path: { id: created.data.id }, header: { "If-Match": etag } },
    body: { company: "Acme Inc", phone: null, metadata: { plan: null, tier: "gold" } },
  });
  console.log(patched.data?.company, patched.data?.phoneE164, patched.response.headers.get("ETag"));

  const upload = await api.POST("/api/leads/import", {
    params: { query: { onDuplicate: "skip", fileName: "leads.csv" } },
    body: csv,
    headers: { "Content-Type": "text/csv" },
    bodySerializer: (body) => body,
  });
  console.log(upload.data?.id, upload.response.headers.get("Location"));
  return created.data;
}
