using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Layers;

/// <summary>
/// Image input for a Vision Transformer: each row holds <c>Channels × Height × Width</c> pixels in ML.NET's
/// <c>ExtractPixels</c> layout (channel-planar, or pixel-major when <see cref="InterleavedColors"/>). Pixels are
/// standardised with the scale stored in the model (so 0–255 and 0–1 inputs both work), cut into
/// <c>PatchSize × PatchSize</c> patches in row-major patch order, and each patch vector (channel, row, column order)
/// is projected linearly to d. Every position is a real token.
/// </summary>
internal sealed class PatchEmbedding : InputEmbedding
{
    private readonly int _modelDimension;

    /// <summary>Creates the projection (torch's Linear init) with pixel mean 0 and scale 1 until <see cref="SetPixelStatistics"/>.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="channels">Channels per pixel.</param>
    /// <param name="patchSize">Side of a square patch; divides height and width.</param>
    /// <param name="interleavedColors">Pixel-major input (all channels of a pixel together) instead of channel-planar.</param>
    /// <param name="modelDimension">Token width d.</param>
    /// <param name="generator">Random generator; null draws from the global torch generator.</param>
    public PatchEmbedding(string name, int height, int width, int channels, int patchSize, bool interleavedColors, int modelDimension, Generator? generator = null)
        : base(name)
    {
        if (patchSize < 1 || height % patchSize != 0 || width % patchSize != 0)
            throw new ArgumentOutOfRangeException(nameof(patchSize), patchSize, $"patchSize must divide the image height ({height}) and width ({width}).");
        if (channels < 1) throw new ArgumentOutOfRangeException(nameof(channels), channels, "channels must be at least 1.");
        Height = height;
        Width = width;
        Channels = channels;
        PatchSize = patchSize;
        InterleavedColors = interleavedColors;
        _modelDimension = modelDimension;
        Projection = Initialization.Linear(channels * patchSize * patchSize, modelDimension, generator);
        register_module("projection", Projection);
        register_buffer("pixel_mean", torch.zeros(1), true);
        register_buffer("pixel_scale", torch.ones(1), true);
    }

    /// <summary>Image height.</summary>
    public int Height { get; }

    /// <summary>Image width.</summary>
    public int Width { get; }

    /// <summary>Channels per pixel.</summary>
    public int Channels { get; }

    /// <summary>Patch side.</summary>
    public int PatchSize { get; }

    /// <summary>True for pixel-major input.</summary>
    public bool InterleavedColors { get; }

    /// <summary>Patches per image (the sequence length).</summary>
    public int PatchCount => Height / PatchSize * (Width / PatchSize);

    /// <inheritdoc />
    public override int ModelDimension => _modelDimension;

    /// <inheritdoc />
    public override int MaximumTokens => PatchCount;

    /// <summary>Patch projection <c>[C·P·P] → d</c>.</summary>
    public Linear Projection { get; }

    /// <summary>Pixel mean subtracted before the projection.</summary>
    public Tensor PixelMean => get_buffer("pixel_mean")!;

    /// <summary>Factor applied after subtracting the mean (1 / pixel standard deviation).</summary>
    public Tensor PixelScale => get_buffer("pixel_scale")!;

    /// <summary>Stores the training pixels' mean and standard deviation (a zero deviation is treated as 1).</summary>
    public void SetPixelStatistics(double mean, double standardDeviation)
    {
        using var noGrad = torch.no_grad();
        using Scalar m = mean.ToScalar(), s = (standardDeviation > 0 && double.IsFinite(standardDeviation) ? 1.0 / standardDeviation : 1.0).ToScalar();
        PixelMean.fill_(m);
        PixelScale.fill_(s);
    }

    /// <inheritdoc />
    public override Tensor? TokenMask(Tensor input) => null;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        long n = input.shape[0];
        int p = PatchSize;
        var pixels = input.sub(PixelMean).mul(PixelScale);
        var planar = InterleavedColors
            ? pixels.view(n, Height, Width, Channels).permute(0, 3, 1, 2)
            : pixels.view(n, Channels, Height, Width);
        var patches = planar.reshape(n, Channels, Height / p, p, Width / p, p)
            .permute(0, 2, 4, 1, 3, 5)
            .reshape(n, PatchCount, Channels * p * p);
        return Projection.forward(patches).MoveToOuterDisposeScope();
    }
}
