using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Realtime.Server.Apps;
using Realtime.Server.Auth;
using Realtime.Server.Errors;
using Realtime.Server.Groups;

namespace Realtime.Server.DevSample;

/// <summary>`POST /dev/sign-in`: a user name in, a token of the demo app out.</summary>
public sealed record DevSignInRequest([property: JsonPropertyName("userId")] string? UserId = null);

/// <summary>
/// Development only: the web sample (client-samples/web) served by the node itself, and a sign-in that
/// needs no token, so a newcomer opens one URL and types a user name. Neither exists outside
/// Development: the sign-in hands anyone a token for any user of the demo app.
/// </summary>
public static partial class DevSampleEndpoints
{
    public const string SignInPath = "/dev/sign-in";
    public static readonly TimeSpan TokenLifetime = TimeSpan.FromHours(24);

    /// <summary>
    /// Files of the sample's node_modules the page loads (the official client's browser builds); the rest of
    /// node_modules is not served.
    /// </summary>
    private static readonly string[] BrowserBuilds =
    [
        "node_modules/@microsoft/signalr/dist/browser",
        "node_modules/@microsoft/signalr-protocol-msgpack/dist/browser",
    ];

    /// <summary>
    /// Maps the sign-in (Development only) and, when `Realtime:DevSample:Path` names the web sample's folder,
    /// the sample at `/` with the shared client module (its sibling `js/`) at `/js/`.
    /// </summary>
    public static void MapDevSample(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment()) return;
        app.MapPost(SignInPath, SignInAsync).ExcludeFromDescription();

        var path = app.Configuration["Realtime:DevSample:Path"];
        if (string.IsNullOrWhiteSpace(path)) return;
        var root = Path.GetFullPath(path);
        if (!File.Exists(Path.Combine(root, "index.html")))
            throw new InvalidOperationException($"Realtime:DevSample:Path is '{root}', which has no index.html (point it at client-samples/web).");
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DevSampleEndpoints).FullName!);

        foreach (var build in BrowserBuilds)
        {
            var dir = Path.Combine(root, build);
            if (Directory.Exists(dir)) Serve(app, dir, "/" + build);
            else LogMissing(logger, dir);
        }
        var shared = Path.GetFullPath(Path.Combine(root, "..", "js"));
        if (Directory.Exists(shared)) app.UseStaticFiles(Options(new PhysicalFileProvider(shared), "/js", PageTypes()));
        else LogMissing(logger, shared);
        // The page's own files; nothing under node_modules but the builds above.
        app.UseWhen(c => !c.Request.Path.StartsWithSegments("/node_modules"), branch =>
        {
            var files = new PhysicalFileProvider(root);
            branch.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
            branch.UseStaticFiles(Options(files, "", PageTypes()));
        });
    }

    private static void Serve(WebApplication app, string dir, string requestPath) =>
        app.UseStaticFiles(Options(new PhysicalFileProvider(dir), requestPath));

    /// <summary>The page's own kinds of file only (not its package.json or lock file).</summary>
    private static FileExtensionContentTypeProvider PageTypes()
    {
        var types = new FileExtensionContentTypeProvider();
        types.Mappings.Clear();
        foreach (var (ext, type) in new[] { (".html", "text/html"), (".js", "text/javascript"), (".mjs", "text/javascript"), (".css", "text/css"), (".png", "image/png"), (".svg", "image/svg+xml") })
            types.Mappings[ext] = type;
        return types;
    }

    private static StaticFileOptions Options(IFileProvider files, string requestPath, FileExtensionContentTypeProvider? types = null)
    {
        if (types is null)
        {
            types = new FileExtensionContentTypeProvider();
            types.Mappings[".mjs"] = "text/javascript";
        }
        return new StaticFileOptions
        {
            FileProvider = files,
            RequestPath = requestPath,
            ContentTypeProvider = types,
            // The sample is edited while it runs: always revalidate.
            OnPrepareResponse = c => c.Context.Response.Headers.CacheControl = "no-cache",
        };
    }

    private static async Task<IResult> SignInAsync(HttpRequest request, TokenService tokens, AppRegistry apps)
    {
        try
        {
            JsonDocument document;
            try
            {
                document = await JsonDocument.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
            }
            catch (JsonException e)
            {
                throw RealtimeException.Invalid("request", $"the body is not valid JSON ({e.Message})");
            }
            string userId;
            using (document) userId = Validate.UserId(RealtimeJson.Bind<DevSignInRequest>(document.RootElement).UserId, "userId");
            if (apps.KeyOf(AppRegistry.DemoAppId) is null) throw new RealtimeException(ErrorCode.Internal, "the demo app is not configured");
            var token = tokens.Issue(AppRegistry.DemoAppId, userId, TokenLifetime);
            return Results.Json(new { token, appId = AppRegistry.DemoAppId, userId, expiresIn = (long)TokenLifetime.TotalSeconds });
        }
        catch (RealtimeException e)
        {
            return Results.Json(ErrorMapping.RestBody(e), statusCode: e.Code.HttpStatus());
        }
    }

    [LoggerMessage(EventId = 900, Level = LogLevel.Warning, Message = "Dev sample: {Dir} is missing (the client builds come from `npm ci` in client-samples/web; the shared module is client-samples/js)")]
    private static partial void LogMissing(ILogger logger, string dir);
}
