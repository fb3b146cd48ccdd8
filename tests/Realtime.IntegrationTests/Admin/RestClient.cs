using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Realtime.IntegrationTests.Infrastructure;
using Realtime.Server.Errors;

namespace Realtime.IntegrationTests.Admin;

/// <summary>A status and a parsed JSON body of one REST call.</summary>
public sealed record RestResponse(HttpStatusCode Status, JsonElement Body)
{
    public JsonElement Data => Body.GetProperty("data");

    /// <summary>Asserts success (200 with the SPEC §6 envelope) and returns `data`.</summary>
    public JsonElement Ok()
    {
        Assert.True(Status == HttpStatusCode.OK, $"expected 200, got {(int)Status}: {Body}");
        foreach (var field in new[] { "action", "application", "uri", "path", "entities", "data", "timestamp", "duration" })
            Assert.True(Body.TryGetProperty(field, out _), $"envelope lacks '{field}': {Body}");
        return Data;
    }

    /// <summary>Asserts the SPEC §6 error body with the code's status, number and name; returns error_description.</summary>
    public string Fails(ErrorCode code)
    {
        Assert.True((int)Status == code.HttpStatus(), $"expected {code.HttpStatus()} {code}, got {(int)Status}: {Body}");
        Assert.Equal(code.ToString(), Body.Str("error"));
        Assert.Equal((int)code, Body.Int("code"));
        Assert.True(Body.Long("timestamp") > 0);
        return Body.Str("error_description");
    }
}

/// <summary>HttpClient over a real node's admin API, as an app's back end calls it.</summary>
public sealed class RestClient : IDisposable
{
    private readonly HttpClient _http;

    public RestClient(RealtimeNode node, string? token, string app = RealtimeNode.App)
    {
        App = app;
        // HttpClient.Timeout bounds every await on it.
        _http = new HttpClient { BaseAddress = node.BaseUrl, Timeout = TimeSpan.FromSeconds(15) };
        if (token is not null) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public string App { get; }

    /// <summary>The app admin of <paramref name="app"/>.</summary>
    public static RestClient Admin(RealtimeNode node, string app = RealtimeNode.App) => new(node, TestTokens.Issue("backend", app, admin: true), app);

    public Task<RestResponse> GetAsync(string path) => SendAsync(HttpMethod.Get, path);

    public Task<RestResponse> PostAsync(string path, object? body = null) => SendAsync(HttpMethod.Post, path, body);

    public Task<RestResponse> PutAsync(string path, object? body) => SendAsync(HttpMethod.Put, path, body);

    public Task<RestResponse> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path);

    /// <summary>`path` is relative to /v1/apps/{app}; a body given as a string is sent verbatim.</summary>
    public async Task<RestResponse> SendAsync(HttpMethod method, string path, object? body = null, string? app = null)
    {
        using var request = new HttpRequestMessage(method, $"/v1/apps/{Uri.EscapeDataString(app ?? App)}{path}");
        if (body is not null)
            request.Content = new StringContent(body as string ?? JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var json = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return new RestResponse(response.StatusCode, json);
    }

    /// <summary>A raw GET outside the admin prefix (the OpenAPI document).</summary>
    public async Task<(HttpStatusCode Status, string Text)> GetRawAsync(string absolutePath)
    {
        using var response = await _http.GetAsync(absolutePath);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>A group created through REST; returns its id.</summary>
    public async Task<string> CreateGroupAsync(object body) => (await PostAsync("/chatgroups", body)).Ok().Str("groupid");

    public static string Escape(string groupId) => Uri.EscapeDataString(groupId);

    public void Dispose() => _http.Dispose();
}
