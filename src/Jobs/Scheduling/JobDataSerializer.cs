using System.Collections.Specialized;
using System.Text.Json;
using Quartz;
using Quartz.Spi;

namespace ModelOps.Jobs.Scheduling;

/// <summary>
/// Quartz's ADO store needs an object serializer; its JSON serializer packages are not obtainable
/// here and BinaryFormatter is gone from .NET 9. Our job data carries only string ids (style rule:
/// "job data carries only ids"), so a string-map serializer is all that is needed, and anything
/// else is refused loudly rather than stored half-right.
/// </summary>
public sealed class JobDataSerializer : IObjectSerializer
{
    public void Initialize()
    {
    }

    public byte[] Serialize<T>(T obj) where T : class
    {
        var map = obj switch
        {
            JobDataMap data => data.ToDictionary(kv => kv.Key, kv => kv.Value?.ToString()),
            NameValueCollection nvc => nvc.AllKeys.Where(k => k is not null).ToDictionary(k => k!, k => nvc[k]),
            IDictionary<string, object?> dict => dict.ToDictionary(kv => kv.Key, kv => kv.Value?.ToString()),
            _ => throw new NotSupportedException($"Only string job data can be stored; got {typeof(T).Name}."),
        };
        return JsonSerializer.SerializeToUtf8Bytes(map);
    }

    public T? DeSerialize<T>(byte[] data) where T : class
    {
        var map = JsonSerializer.Deserialize<Dictionary<string, string?>>(data) ?? [];
        if (typeof(T) == typeof(NameValueCollection) || typeof(T).IsAssignableFrom(typeof(NameValueCollection)) && typeof(T) != typeof(object))
        {
            var nvc = new NameValueCollection();
            foreach (var (k, v) in map) nvc[k] = v;
            return nvc as T;
        }
        if (typeof(T).IsAssignableFrom(typeof(JobDataMap)))
        {
            var jobData = new JobDataMap();
            foreach (var (k, v) in map) jobData[k] = v!;
            return jobData as T;
        }
        var dict = map.ToDictionary(kv => kv.Key, kv => (object?)kv.Value);
        return dict as T ?? throw new NotSupportedException($"Cannot restore job data as {typeof(T).Name}.");
    }
}
