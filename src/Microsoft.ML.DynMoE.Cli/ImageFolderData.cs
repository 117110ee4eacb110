using Microsoft.ML.Data;
using SkiaSharp;

namespace Microsoft.ML.DynMoE.Cli
{
    /// <summary>
    /// A Model Builder image folder (one subfolder of images per label) decoded once into memory, so every fold and
    /// candidate reuses the pixels. Decoding uses SkiaSharp 3 directly, not Microsoft.ML.ImageAnalytics: the CLI also
    /// loads ScottPlot, whose SkiaSharp 3 cannot share a process with the SkiaSharp 2.88 that ImageAnalytics needs.
    /// </summary>
    /// <remarks>
    /// The pixels are what <c>LoadImages → ResizeImages → [ConvertToGrayscale →] ExtractPixels</c> gives with their
    /// defaults: resized "iso-crop" (scaled to cover the target, centre cropped; images already of the target size are
    /// read unchanged), channel-planar, values 0–255. Three channels are the R, G and B planes; four are A, R, G, B;
    /// one is grey = 0.3 R + 0.59 G + 0.11 B, the weights of ML.NET's ConvertToGrayscale.
    /// </remarks>
    internal static class ImageFolderData
    {
        public const string LabelColumn = "Label";
        private static readonly HashSet<string> Extensions = new(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp" };

        private sealed class PixelRow
        {
            public string Label { get; set; } = "";
            public float[] Features { get; set; } = Array.Empty<float>();
        }

        public static IDataView Load(MLContext ml, string folder, ImageShape shape, out int classes)
        {
            if (!Directory.Exists(folder))
                throw new CliUsageException($"Image folder '{folder}' was not found. Pass a folder with one subfolder of images per label to --image-folder.");
            var files = Directory.GetDirectories(folder).OrderBy(d => d, StringComparer.Ordinal)
                .SelectMany(d => Directory.GetFiles(d).Where(f => Extensions.Contains(Path.GetExtension(f))).OrderBy(f => f, StringComparer.Ordinal)
                    .Select(f => (Label: Path.GetFileName(d), Path: f)))
                .ToList();
            classes = files.Select(f => f.Label).Distinct().Count();
            if (files.Count == 0 || classes < 2)
                throw new CliUsageException($"Image folder '{folder}' holds {files.Count} images in {classes} label subfolder(s); classification needs images (png, jpg, bmp, gif, webp) in at least two subfolders, one per label.");

            int channels = shape.Channels == 0 ? 3 : shape.Channels;
            if (channels is not (1 or 3 or 4))
                throw new CliUsageException($"--image-size {shape}: images from files have 1 (grey), 3 (RGB) or 4 (ARGB) channels.");
            var rows = files.Select(f => new PixelRow { Label = f.Label, Features = ReadPixels(f.Path, shape.Height, shape.Width, channels) }).ToList();
            var schema = SchemaDefinition.Create(typeof(PixelRow));
            schema[nameof(PixelRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, shape.Height * shape.Width * channels);
            return ml.Data.LoadFromEnumerable(rows, schema);
        }

        /// <summary>Decodes one image file into <paramref name="height"/> × <paramref name="width"/> × <paramref name="channels"/> planar pixels (see the class remarks).</summary>
        internal static float[] ReadPixels(string path, int height, int width, int channels)
        {
            using var decoded = SKBitmap.Decode(path)
                ?? throw new CliUsageException($"Image file '{path}' could not be decoded; remove it or convert it to PNG or JPEG.");
            using var resized = Resize(decoded, height, width);
            var bitmap = resized ?? decoded;
            int plane = height * width;
            var pixels = new float[plane * channels];
            for (int r = 0; r < height; r++)
            {
                for (int c = 0; c < width; c++)
                {
                    var color = bitmap.GetPixel(c, r);
                    int at = r * width + c;
                    switch (channels)
                    {
                        case 1:
                            pixels[at] = 0.3f * color.Red + 0.59f * color.Green + 0.11f * color.Blue;
                            break;
                        case 3:
                            pixels[at] = color.Red;
                            pixels[plane + at] = color.Green;
                            pixels[2 * plane + at] = color.Blue;
                            break;
                        default:
                            pixels[at] = color.Alpha;
                            pixels[plane + at] = color.Red;
                            pixels[2 * plane + at] = color.Green;
                            pixels[3 * plane + at] = color.Blue;
                            break;
                    }
                }
            }

            return pixels;
        }

        // ResizeImages' default: scale so the image covers the target, then keep the centre.
        private static SKBitmap? Resize(SKBitmap source, int height, int width)
        {
            if (source.Width == width && source.Height == height)
                return null;
            float scale = Math.Max((float)width / source.Width, (float)height / source.Height);
            float cropWidth = width / scale, cropHeight = height / scale;
            var from = SKRect.Create((source.Width - cropWidth) / 2, (source.Height - cropHeight) / 2, cropWidth, cropHeight);
            var target = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
            using var canvas = new SKCanvas(target);
            using var image = SKImage.FromBitmap(source);
            canvas.Clear(SKColors.Transparent);
            canvas.DrawImage(image, from, SKRect.Create(0, 0, width, height), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear));
            canvas.Flush();
            return target;
        }
    }
}
