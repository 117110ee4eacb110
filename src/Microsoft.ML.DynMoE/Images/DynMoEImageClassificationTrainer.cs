using System;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Sequence;
using Microsoft.ML.Runtime;

namespace Microsoft.ML.DynMoE.Images;

/// <summary>
/// Trains a DynMoE Vision Transformer from scratch: the image (a pixel vector in ML.NET's ExtractPixels layout) is cut
/// into patches, each projected to a token, and a pre-norm encoder whose FFNs in the chosen blocks are DynMoE layers
/// classifies it. Pixels are standardised inside the model, so 0–255 and 0–1 inputs both work; any channel count.
/// </summary>
public sealed class DynMoEImageClassificationTrainer : DynMoEEncoderTrainerBase<DynMoEImageClassificationTrainer.Options>
{
    /// <summary>Options of <see cref="DynMoEImageClassificationTrainer"/>; see <see cref="DynMoEEncoderOptionsBase"/> for the network and training settings.</summary>
    public sealed class Options : DynMoEEncoderOptionsBase
    {
        /// <summary>Known-size Single vector of <c>ImageHeight × ImageWidth × Channels</c> pixels (default "Features").</summary>
        public string FeatureColumnName = DefaultColumnNames.Features;

        /// <summary>Image height in pixels (required).</summary>
        public int ImageHeight;

        /// <summary>Image width in pixels (required).</summary>
        public int ImageWidth;

        /// <summary>Channels per pixel; 0 (default) takes what the vector size implies (size / (height × width)).</summary>
        public int Channels;

        /// <summary>Side of the square patches; must divide the height and the width (default 4).</summary>
        public int PatchSize = 4;

        /// <summary>Pixel-major vector (all channels of a pixel together), as ExtractPixels(interleavePixelColors: true) gives; default false (channel-planar).</summary>
        public bool InterleavedColors;

        /// <summary>Training-time augmentation: each image is shifted by up to this many pixels in each direction, edges repeated (default 0 = off). Never flips.</summary>
        public int AugmentationShift;

        internal override void Validate()
        {
            base.Validate();
            Check(!string.IsNullOrEmpty(FeatureColumnName), nameof(FeatureColumnName), FeatureColumnName, "must name the pixel column");
            Check(ImageHeight >= 1, nameof(ImageHeight), ImageHeight, "must be set to the image height in pixels");
            Check(ImageWidth >= 1, nameof(ImageWidth), ImageWidth, "must be set to the image width in pixels");
            Check(Channels >= 0, nameof(Channels), Channels, "must be 0 (inferred from the vector size) or positive");
            Check(PatchSize >= 1 && ImageHeight % PatchSize == 0 && ImageWidth % PatchSize == 0, nameof(PatchSize), PatchSize,
                $"must divide ImageHeight ({ImageHeight}) and ImageWidth ({ImageWidth})");
            Check(AugmentationShift >= 0 && AugmentationShift < Math.Max(ImageHeight, ImageWidth), nameof(AugmentationShift), AugmentationShift, "must be 0 (off) or a small number of pixels");
        }
    }

    internal DynMoEImageClassificationTrainer(IHostEnvironment env, Options options)
        : base(env, options, nameof(DynMoEImageClassificationTrainer), SequenceTask.MulticlassClassification)
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

        double std = count > 1 ? Math.Sqrt(m2 / count) : 1;
        channel.Info(MessageSensitivity.None, $"DynMoE image input: {Settings.ImageHeight}×{Settings.ImageWidth}×{channels}, {Settings.PatchSize}×{Settings.PatchSize} patches, pixel mean {mean:G4}, standard deviation {std:G4}.");
        return new ImageSequenceInput(Settings.FeatureColumnName, Settings.ImageHeight, Settings.ImageWidth, channels, Settings.PatchSize, Settings.InterleavedColors, mean, std);
    }

    private protected override Action<float[], Random>? CreateAugmentation(SequenceInput input)
    {
        int shift = Settings.AugmentationShift;
        if (shift == 0)
            return null;
        var image = (ImageSequenceInput)input;
        int h = image.Height, w = image.Width, c = image.Channels;
        bool interleaved = image.InterleavedColors;
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
                        int target = interleaved ? (r * w + col) * c + ch : (ch * h + r) * w + col;
                        int from = interleaved ? (sr * w + sc) * c + ch : (ch * h + sr) * w + sc;
                        pixels[target] = source[from];
                    }
                }
            }
        };
    }
}
