using Dapper;
using FastEndpoints;
using Microsoft.AspNetCore.Http;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Modules.Access.Data;
using Modules.Access.Public;
using Modules.Access.Security;
using Npgsql;

namespace Modules.Access.Features.CreateApiKey;

internal sealed class Endpoint(NpgsqlDataSource db) : Endpoint<Request, Response>
{
    public override void Configure()
    {
        Post("/api/api-keys");
        Policies(AuthPolicies.AdminWrite);
        Description(b => b.ClearDefaultProduces(200).Produces<Response>(201, "application/json"));
        Summary(s =>
        {
            s.Summary = "Create an API key";
            s.Description = "Owner/admin with a full-scope key. The new key belongs to the calling member; its plaintext is returned once in `key`. " +
                "A key that expires can only mint keys that expire no later than itself (`expiresAt` required, ≤ the calling key's).";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        var key = ApiKeyFormat.Generate();
        var id = Guid.CreateVersion7();
        await using var conn = await db.OpenConnectionAsync(ct);
        // A key must not outlive the key that made it, or an expiring key could mint itself a permanent successor.
        var limit = await conn.ExecuteScalarAsync<DateTime?>(new CommandDefinition(
            "SELECT expires_at FROM access.api_keys WHERE id = @KeyId", new { caller.KeyId }, cancellationToken: ct));
        if (limit is { } l && (r.ExpiresAt is not { } e || e.ToUniversalTime() > l))
            throw ApiProblemException.Validation("expiresAt",
                $"The calling key expires at {l:yyyy-MM-ddTHH:mm:ssZ}; a key it creates must have an expiresAt no later than that.");
        await conn.ExecuteAsync(new CommandDefinition(KeyProvisioning.InsertKeySql, new
        {
            Id = id,
            caller.WorkspaceId,
            caller.MemberId,
            Label = r.Label!.Trim(),
            r.Scope,
            Prefix = ApiKeyFormat.DisplayPrefix(key),
            KeyHash = ApiKeyFormat.Hash(key),
            r.ExpiresAt,
        }, cancellationToken: ct));
        var view = (await ApiKeysData.ListAsync(conn, caller.WorkspaceId, id, ct))[0];
        HttpContext.Response.Headers.Location = $"/api/api-keys/{TypeId.Format(IdPrefix.ApiKey, id)}";
        await Send.ResponseAsync(new Response
        {
            Id = view.Id, Label = view.Label, Scope = view.Scope, Prefix = view.Prefix, Active = view.Active,
            ExpiresAt = view.ExpiresAt, LastUsedAt = view.LastUsedAt, CreatedAt = view.CreatedAt, CreatedBy = view.CreatedBy,
            Key = key,
        }, 201, ct);
    }
}
