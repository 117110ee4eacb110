using Microsoft.ML.DynMoE.Images;
using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Sequence;

namespace Microsoft.ML.DynMoE;

/// <summary>
/// Trains a DynMoE Vision Transformer from scratch: the image (a pixel vector in ML.NET's ExtractPixels layout) is cut
/// into patches, each projected to a token, and a pre-norm encoder whose FFNs in the chosen blocks are DynMoE layers
/// classifies it. Pixels are standardised inside the model, so 0–255 and 0–1 inputs both work; any channel count.
/// </summary>
public sealed class DynMoEImageClassificationTrainer : DynMoEEncoderTrainerBase<DynMoEImageClassificationTrainer.Options>
{
    /// <summary>
    /// Options of <see cref="DynMoEImageClassificationTrainer"/>; see <see cref="DynMoEEncoderOptionsBase"/> for the network and
    /// training settings. <c>FeatureColumnName</c> (default "Features") is the known-size Single vector of
    /// <c>ImageHeight × ImageWidth × Channels</c> pixels.
    /// </summary>
    public sealed class Options : DynMoEEncoderOptionsBase
    {
        /// <summary>
        /// Image defaults, measured on held-out digits (8×8) and MNIST (28×28): from scratch a small ViT needs a higher
        /// peak learning rate (0.003) and more passes (60) than the text trainer. Thresholds start at 0.25: the defaults
        /// study's image selection (docs/defaults-study.md) found it level with θ = 0 and the dense ViT at 1.3 activated
        /// experts per patch instead of 3.0.
        /// </summary>
        public Options()
        {
            LearningRate = 3e-3f;
            NumberOfEpochs = 60;
            ThresholdInitialization = 0.25f;
        }

        /// <summary>Image height in pixels (required).</summary>
        public int ImageHeight;

        /// <summary>Image width in pixels (required).</summary>
        public int ImageWidth;

        /// <summary>Channels per pixel; 0 (default) takes what the vector size implies (size / (height × width)).</summary>
        public int Channels;

        /// <summary>
        /// Side of the square patches; must divide the height and the width. Default 0 = automatic: the smallest common
        /// divisor of height and width, at least 2, that leaves 4 to 64 patches (8×8 → 2, 28×28 → 4, 32×32 → 4,
        /// 64×64 → 8, 9×9 → 3); 1 (one patch per pixel) when none does.
        /// </summary>
        public int PatchSize;

        /// <summary>Pixel-major vector (all channels of a pixel together), as ExtractPixels(interleavePixelColors: true) gives; default false (channel-planar).</summary>
        public bool InterleavedColors;

        /// <summary>
        /// Training-time augmentation: each image is shifted by up to this many pixels in each direction, edges repeated;
        /// 0 turns it off. Default -1 = automatic: off below 20 pixels a side (a pixel of an 8×8 digit is a stroke),
        /// else one pixel per 14 of the shorter side (28×28 → 2). Never flips: many image classes (digits, text) change meaning when mirrored.
        /// </summary>
        public int AugmentationShift = -1;

        /// <summary>The patch side used: <see cref="PatchSize"/>, or the automatic choice when it is 0.</summary>
        internal int EffectivePatchSize => PatchSize > 0 ? PatchSize : AutomaticPatchSize(ImageHeight, ImageWidth);

        /// <summary>The shift used: <see cref="AugmentationShift"/>, or the automatic choice when it is negative.</summary>
        internal int EffectiveAugmentationShift => AugmentationShift >= 0 ? AugmentationShift : Math.Min(ImageHeight, ImageWidth) < 20 ? 0 : Math.Min(ImageHeight, ImageWidth) / 14;

        // 4–64 tokens keeps attention cheap on CPU while a patch stays small enough to keep strokes apart.
        internal static int AutomaticPatchSize(int height, int width)
        {
            int common = Gcd(Math.Max(height, 1), Math.Max(width, 1));
            for (int p = 2; p <= common; p++)
            {
                long patches = (long)(height / p) * (width / p);
                if (common % p == 0 && patches >= 4 && patches <= 64)
                    return p;
            }

            return 1;
        }

        private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);

        internal override void Validate()
        {
            base.Validate();
            Check(!string.IsNullOrEmpty(FeatureColumnName), nameof(FeatureColumnName), FeatureColumnName, "must name the pixel column");
            Check(ImageHeight >= 1, nameof(ImageHeight), ImageHeight, "must be set to the image height in pixels");
            Check(ImageWidth >= 1, nameof(ImageWidth), ImageWidth, "must be set to the image width in pixels");
            Check(Channels >= 0, nameof(Channels), Channels, "must be 0 (inferred from the vector size) or positive");
            Check(PatchSize == 0 || (PatchSize >= 1 && ImageHeight % PatchSize == 0 && ImageWidth % PatchSize == 0), nameof(PatchSize), PatchSize,
                $"must be 0 (automatic) or divide ImageHeight ({ImageHeight}) and ImageWidth ({ImageWidth})");
            Check(AugmentationShift >= -1 && AugmentationShift < Math.Max(ImageHeight, ImageWidth), nameof(AugmentationShift), AugmentationShift, "must be -1 (automatic), 0 (off) or a small number of pixels");
        }
    }

    internal DynMoEImageClassificationTrainer(IHostEnvironment env, Options options)
        : base(env, options, nameof(DynMoEImageClassificationTrainer), ClassificationTask.Multiclass)
    {
    }

    private protected override void CheckInputColumns(SchemaShape schema, string dataName)
        => ImageSequenceInput.CheckFeatureColumn(schema, dataName, Settings.FeatureColumnName, Settings.ImageHeight, Settings.ImageWidth, Settings.Channels);

    private protected override SequenceInput FitInput(IDataView trainData, IChannel channel, Action checkAlive)
    {
        var column = trainData.Schema[Settings.FeatureColumnName];
        int size = ((VectorDataViewType)column.Type).Size;
        long pixels = (long)Settings.ImageHeight * Settings.ImageWidth;
        int channels = Settings.Channels > 0 ? Settings.Channels : (int)(size / pixels);
        if (channels < 1 || size != pixels * channels)
            throw new ArgumentOutOfRangeException(nameof(Options.FeatureColumnName),
                $"Feature column '{column.Name}' has {size} values, which is not ImageHeight × ImageWidth × Channels = {Settings.ImageHeight} × {Settings.ImageWidth} × " +
                (Settings.Channels > 0 ? $"{Settings.Channels} = {pixels * Settings.Channels}" : "a whole number of channels") +
                ". Set ImageHeight, ImageWidth (and Channels) to the size ExtractPixels was given.");

        double mean = 0, m2 = 0;
        long count = 0, rows = 0;
        using (var cursor = trainData.GetRowCursor(new[] { column }))
        {
            var getter = cursor.GetGetter<VBuffer<float>>(column);
            var buffer = default(VBuffer<float>);
            while (cursor.MoveNext())
            {
                if ((rows++ & 255) == 0)
                    checkAlive();
                getter(ref buffer);
                foreach (float value in buffer.DenseValues())
                {
                    if (!float.IsFinite(value))
                        continue;
                    count++;
                    double delta = value - mean;
                    mean += delta / count;
                    m2 += delta * (value - mean);
                }
            }
        }

        int patchSize = Settings.EffectivePatchSize;
        double std = count > 1 ? Math.Sqrt(m2 / count) : 1;
        channel.Info(MessageSensitivity.None, $"DynMoE image input: {Settings.ImageHeight}×{Settings.ImageWidth}×{channels}, {patchSize}×{patchSize} patches, pixel mean {mean:G4}, standard deviation {std:G4}.");
        var geometry = new PatchGeometry(Settings.ImageHeight, Settings.ImageWidth, channels, patchSize, Settings.InterleavedColors);
        return new ImageSequenceInput(Settings.FeatureColumnName, geometry, mean, std);
    }

    private protected override Action<float[], Random>? CreateAugmentation(SequenceInput input)
    {
        int shift = Settings.EffectiveAugmentationShift;
        if (shift == 0)
            return null;
        var geometry = ((ImageSequenceInput)input).Geometry;
        int h = geometry.Height, w = geometry.Width, c = geometry.Channels;
        return (pixels, random) =>
        {
            int dy = random.Next(-shift, shift + 1), dx = random.Next(-shift, shift + 1);
            if (dx == 0 && dy == 0)
                return;
            var source = (float[])pixels.Clone();
            for (int ch = 0; ch < c; ch++)
            {
                for (int r = 0; r < h; r++)
                {
                    int sr = Math.Clamp(r - dy, 0, h - 1);
                    for (int col = 0; col < w; col++)
                    {
                        int sc = Math.Clamp(col - dx, 0, w - 1);
                        pixels[geometry.PixelIndex(r, col, ch)] = source[geometry.PixelIndex(sr, sc, ch)];
                    }
                }
            }
        };
    }
}
