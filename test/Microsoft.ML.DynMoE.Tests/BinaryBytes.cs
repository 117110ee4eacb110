using System;
using System.IO;

namespace Microsoft.ML.DynMoE.Tests;

/// <summary>The bytes a model part's <c>Save(BinaryWriter)</c> writes, for format tests that edit or truncate them.</summary>
internal static class BinaryBytes
{
    public static byte[] Of(Action<BinaryWriter> save)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
            save(writer);
        return stream.ToArray();
    }
}
