using System.Buffers.Binary;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

using Realtime.IntegrationTests.Infrastructure;

namespace Realtime.IntegrationTests.WebPush;

/// <summary>
/// A push service on loopback, as a browser vendor runs one (RFC 8030), for the subscriptions it hands out. Each
/// push is checked as a push service and a browser would: the VAPID JWT (RFC 8292: `vapid t=…, k=…`, ES256 signed
/// by the app's key, `aud` = the endpoint's origin, `exp` in the next 24 h, a `sub`), then the body decrypted with
/// the subscription's private key and auth secret (RFC 8291 aes128gcm). Written here with
/// System.Security.Cryptography only, independent of the library the server sends with.
/// </summary>
public sealed class LocalPushService : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, TestPushSubscription> _subscriptions = new(StringComparer.Ordinal);
    private readonly Arrivals<PushReceived> _received = new();
    private LoopbackServer _server = null!;

    private LocalPushService(string vapidPublicKey) => VapidPublicKey = vapidPublicKey;

    /// <summary>The app's VAPID public key (base64url) every push must be signed with.</summary>
    public string VapidPublicKey { get; }

    public Uri BaseUrl => _server.BaseUrl;

    public IReadOnlyList<PushReceived> All => _received.All;

    public static async Task<LocalPushService> StartAsync(string vapidPublicKey)
    {
        var service = new LocalPushService(vapidPublicKey);
        service._server = await LoopbackServer.StartAsync(app => app.MapPost("/push/{token}", service.HandleAsync));
        return service;
    }

    /// <summary>A new subscription, as PushManager.subscribe() makes one: its endpoint here, a P-256 key pair and an auth secret.</summary>
    public TestPushSubscription Subscribe()
    {
        var token = Guid.NewGuid().ToString("N");
        var sub = new TestPushSubscription(new Uri(BaseUrl, "/push/" + token).ToString(), token);
        _subscriptions[token] = sub;
        return sub;
    }

    /// <summary>The first matching push not handed out before, already received or arriving within the timeout.</summary>
    public Task<PushReceived> WaitForAsync(Func<PushReceived, bool> match, TimeSpan? timeout = null) =>
        _received.TakeAsync(match, () => $"no matching push; received: {string.Join(", ", All.Select(r => $"{r.Token[..6]}:{r.Status}"))}", timeout);

    private async Task<IResult> HandleAsync(string token, HttpRequest request)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        if (!_subscriptions.TryGetValue(token, out var sub)) return Results.StatusCode(404);
        var status = sub.Answer(sub.Attempts + 1);
        Interlocked.Increment(ref sub.AttemptCount);

        var origin = $"{request.Scheme}://{request.Host}";
        var vapidProblem = VapidProblem(request.Headers.Authorization.ToString(), origin);
        string? text = null, decryptProblem = null;
        if (request.Headers.ContentEncoding.ToString() != "aes128gcm") decryptProblem = $"Content-Encoding is '{request.Headers.ContentEncoding}'";
        else
        {
            try
            {
                text = Encoding.UTF8.GetString(sub.Decrypt(body));
            }
            catch (Exception e) when (e is CryptographicException or FormatException or ArgumentException)
            {
                decryptProblem = e.Message;
            }
        }
        var received = new PushReceived(token, status, body.Length, request.Headers["TTL"].ToString(), request.Headers["Urgency"].ToString(),
            vapidProblem, decryptProblem, text, text is null ? default : JsonDocument.Parse(text).RootElement.Clone());
        _received.Add(received);
        // A real push service refuses what it cannot authenticate.
        return Results.StatusCode(vapidProblem is null ? status : 401);
    }

    /// <summary>Why the Authorization header is no valid VAPID authorization for this origin, or null.</summary>
    private string? VapidProblem(string authorization, string origin)
    {
        if (!authorization.StartsWith("vapid ", StringComparison.Ordinal)) return $"scheme of '{authorization}' is not vapid";
        var parameters = authorization["vapid ".Length..].Split(',').Select(p => p.Trim().Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "");
        if (parameters.GetValueOrDefault("k") != VapidPublicKey) return $"k is '{parameters.GetValueOrDefault("k")}', not the app's key";
        var jwt = parameters.GetValueOrDefault("t")?.Split('.');
        if (jwt is not { Length: 3 }) return "t is no JWT";
        var header = JsonDocument.Parse(Base64Url.DecodeFromChars(jwt[0])).RootElement;
        if (header.GetProperty("alg").GetString() != "ES256") return "alg is not ES256";
        var publicKey = Base64Url.DecodeFromChars(VapidPublicKey);
        using var key = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = publicKey[1..33], Y = publicKey[33..] } });
        if (!key.VerifyData(Encoding.ASCII.GetBytes(jwt[0] + "." + jwt[1]), Base64Url.DecodeFromChars(jwt[2]), HashAlgorithmName.SHA256,
                DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
            return "the ES256 signature does not verify with the app's public key";
        var claims = JsonDocument.Parse(Base64Url.DecodeFromChars(jwt[1])).RootElement;
        if (claims.GetProperty("aud").GetString() != origin) return $"aud is '{claims.GetProperty("aud").GetString()}', not '{origin}'";
        var exp = DateTimeOffset.FromUnixTimeSeconds(claims.GetProperty("exp").GetInt64());
        if (exp <= DateTimeOffset.UtcNow || exp > DateTimeOffset.UtcNow.AddHours(24)) return $"exp {exp} is not within the next 24 h";
        if (!claims.TryGetProperty("sub", out var subject) || subject.GetString() is not { Length: > 0 }) return "no sub";
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        foreach (var sub in _subscriptions.Values) sub.Dispose();
    }
}

/// <summary>A browser's side of one subscription: what RegisterPushSubscription takes, and the private key that reads its pushes.</summary>
public sealed class TestPushSubscription : IDisposable
{
    private readonly ECDiffieHellman _key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
    private readonly byte[] _auth = RandomNumberGenerator.GetBytes(16);
    internal int AttemptCount;

    public TestPushSubscription(string endpoint, string token)
    {
        Endpoint = endpoint;
        Token = token;
        var q = _key.ExportParameters(false).Q;
        PublicKey = [0x04, .. q.X!, .. q.Y!];
    }

    public string Endpoint { get; }

    public string Token { get; }

    public byte[] PublicKey { get; }

    public int Attempts => Volatile.Read(ref AttemptCount);

    /// <summary>The HTTP status the push service answers to attempt n (1-based); 201 Created by default.</summary>
    public Func<int, int> Answer { get; set; } = _ => 201;

    /// <summary>The argument of RegisterPushSubscription.</summary>
    public object Registration(string? requestId = null) => new
    {
        endpoint = Endpoint,
        keys = new { p256dh = Base64Url.EncodeToString(PublicKey), auth = Base64Url.EncodeToString(_auth) },
        requestId,
    };

    /// <summary>RFC 8291 §3-4 with RFC 8188 framing: header (salt, rs, keyid = the sender's ephemeral public key), then records.</summary>
    public byte[] Decrypt(byte[] body)
    {
        if (body.Length < 21) throw new FormatException("body shorter than the aes128gcm header");
        var salt = body[..16];
        var rs = (int)BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(16, 4));
        int idLength = body[20];
        if (idLength != 65) throw new FormatException($"keyid is {idLength} bytes, not a P-256 point");
        var senderPublic = body[21..(21 + idLength)];
        if (rs < 18) throw new FormatException("record size too small");

        using var sender = ECDiffieHellman.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = senderPublic[1..33], Y = senderPublic[33..] },
        });
        var ecdhSecret = _key.DeriveRawSecretAgreement(sender.PublicKey);
        // IKM = HKDF(auth, ecdh_secret, "WebPush: info" || 0x00 || ua_public || as_public, 32)
        byte[] keyInfo = [.. "WebPush: info"u8, 0, .. PublicKey, .. senderPublic];
        var ikm = HKDF.DeriveKey(HashAlgorithmName.SHA256, ecdhSecret, 32, _auth, keyInfo);
        var prk = HKDF.Extract(HashAlgorithmName.SHA256, ikm, salt);
        var cek = HKDF.Expand(HashAlgorithmName.SHA256, prk, 16, [.. "Content-Encoding: aes128gcm"u8, 0]);
        var nonce = HKDF.Expand(HashAlgorithmName.SHA256, prk, 12, [.. "Content-Encoding: nonce"u8, 0]);

        using var aes = new AesGcm(cek, 16);
        var plaintext = new List<byte>();
        var records = body[(21 + idLength)..];
        for (var (at, seq) = (0, 0); at < records.Length; at += rs, seq++)
        {
            var record = records[at..Math.Min(records.Length, at + rs)];
            var iv = nonce.ToArray();
            BinaryPrimitives.WriteUInt64BigEndian(iv.AsSpan(4), BinaryPrimitives.ReadUInt64BigEndian(iv.AsSpan(4)) ^ (ulong)seq);
            var clear = new byte[record.Length - 16];
            aes.Decrypt(iv, record[..^16], record[^16..], clear);
            // Padding: the delimiter (2 in the last record, 1 before it), then zeros.
            var end = clear.Length - 1;
            while (end >= 0 && clear[end] == 0) end--;
            var last = at + rs >= records.Length;
            if (end < 0 || clear[end] != (last ? 2 : 1)) throw new FormatException("bad padding delimiter");
            plaintext.AddRange(clear[..end]);
        }
        return [.. plaintext];
    }

    public void Dispose() => _key.Dispose();
}

/// <summary>One push as the push service took it: what it answered, its headers, and what came out of checking and decrypting it.</summary>
public sealed record PushReceived(
    string Token, int Status, int BodyBytes, string Ttl, string Urgency, string? VapidProblem, string? DecryptProblem, string? Text, JsonElement Body);
