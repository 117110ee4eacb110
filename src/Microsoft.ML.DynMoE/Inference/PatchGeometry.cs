using System.Runtime.CompilerServices;

namespace Microsoft.ML.DynMoE.Inference;

/// <summary>
/// How an image's pixels become patches: its size, channel count and layout (interleaved or planar), and the patch
/// side. The image input and the compiled patch embedding save it in the same five fields and check it alike on load.
/// </summary>
internal readonly record struct PatchGeometry(int Height, int Width, int Channels, int PatchSize, bool Interleaved)
{
    public int PatchRows => Height / PatchSize;

    public int PatchColumns => Width / PatchSize;

    /// <summary>Values of one image: <c>Height × Width × Channels</c>.</summary>
    public int PixelCount => Height * Width * Channels;

    /// <summary>Where the value of pixel (<paramref name="row"/>, <paramref name="column"/>) in <paramref name="channel"/> sits in ML.NET's ExtractPixels vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int PixelIndex(int row, int column, int channel)
        => Interleaved ? (row * Width + column) * Channels + channel : (channel * Height + row) * Width + column;

    /// <summary>Positive sizes, and a patch side that divides the height and the width.</summary>
    public bool IsValid => Height >= 1 && Width >= 1 && Channels >= 1 && PatchSize >= 1 && Height % PatchSize == 0 && Width % PatchSize == 0;

    public void Write(BinaryWriter writer)
    {
        writer.Write(Height);
        writer.Write(Width);
        writer.Write(Channels);
        writer.Write(PatchSize);
        writer.Write(Interleaved);
    }

    /// <summary>Reads what <see cref="Write"/> wrote; the caller checks <see cref="IsValid"/> with its own message.</summary>
    public static PatchGeometry Read(BinaryReader reader)
    {
        int height = reader.ReadInt32(), width = reader.ReadInt32(), channels = reader.ReadInt32(), patch = reader.ReadInt32();
        return new PatchGeometry(height, width, channels, patch, reader.ReadBoolean());
    }
}
