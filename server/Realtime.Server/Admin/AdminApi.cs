using Microsoft.AspNetCore.Http.Metadata;
using Realtime.Server.Errors;
using Scalar.AspNetCore;

namespace Realtime.Server.Admin;

/// <summary>The admin REST API of SPEC §6 under /v1/apps/{appId}, and its OpenAPI document.</summary>
public static class AdminApi
{
    public const string Prefix = "/v1/apps";

    public static IServiceCollection AddAdminApi(this IServiceCollection services)
    {
        services.AddSingleton<AdminQueries>();
        services.AddSingleton<AdminFilter>();
        services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Realtime admin REST API";
            document.Info.Description = "SPEC §6. Every /v1/apps/{appId} route needs `Authorization: Bearer <admin token of that app>` "
                + "(an HS256 token with iss = appId and role: admin). Success: the Agora envelope; failure: { error, code, error_description, timestamp }. "
                + "The hub API (/hubs/groups) is described in docs/hub-api.md.";
            return Task.CompletedTask;
        }).AddExamples());
        return services;
    }

    /// <summary>Where the OpenAPI document is rendered for people (Scalar), when <see cref="DocsEnabled"/>.</summary>
    public const string DocsPath = "/docs";

    /// <summary>
    /// Realtime:Docs:Enabled, by default on in Development only: the page is harmless (every call it can try needs an
    /// admin token) but a production node need not advertise its API to whoever finds it; /openapi/v1.json is always served.
    /// </summary>
    public static bool DocsEnabled(IConfiguration configuration, IHostEnvironment environment) =>
        configuration.GetValue<bool?>("Realtime:Docs:Enabled") ?? environment.IsDevelopment();

    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapOpenApi();
        var services = endpoints.ServiceProvider;
        if (DocsEnabled(services.GetRequiredService<IConfiguration>(), services.GetRequiredService<IHostEnvironment>()))
            endpoints.MapScalarApiReference(DocsPath, o => o
                .WithTitle("Realtime admin REST API")
                .WithOpenApiRoutePattern("/openapi/{documentName}.json"));
        var app = endpoints.MapGroup(Prefix + "/{appId}").AddEndpointFilter<AdminFilter>().WithTags("Admin");
        foreach (var status in new[] { 400, 401, 403, 404, 409, 429 })
            app.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(AdminError), ["application/json"]));
        GroupEndpoints.Map(app);
        MemberEndpoints.Map(app);
        TokenEndpoints.Map(app);
        StateEndpoints.Map(app);
        HistoryEndpoints.Map(app);
        return endpoints;
    }

    /// <summary>
    /// Names the operation and documents its 200 as the envelope: the handler returns an
    /// AdminReply, which AdminFilter wraps, so the inferred response type would be wrong.
    /// </summary>
    internal static RouteHandlerBuilder Named(this RouteHandlerBuilder route, string name) =>
        route.WithName(name).Produces<AdminEnvelope>();

    /// <summary>The REST names of fields that the shared commands name in hub terms, for error messages.</summary>
    internal static readonly IReadOnlyDictionary<string, string> RestFieldNames = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["name"] = "groupname",
        ["introduction"] = "description",
        ["maxMembers"] = "maxusers",
        ["inviteNeedsConfirm"] = "invite_need_confirm",
        ["userIds"] = "usernames",
        ["newOwnerId"] = "newowner",
        ["groupId"] = "groupid",
    };

    /// <summary>An InvalidArgument of a shared command, with the field named as the REST caller sent it.</summary>
    internal static RealtimeException InRestTerms(RealtimeException e)
    {
        if (e.Code != ErrorCode.InvalidArgument) return e;
        var colon = e.Message.IndexOf(':');
        return colon > 0 && RestFieldNames.TryGetValue(e.Message[..colon], out var rest)
            ? new RealtimeException(e.Code, rest + e.Message[colon..])
            : e;
    }
}
