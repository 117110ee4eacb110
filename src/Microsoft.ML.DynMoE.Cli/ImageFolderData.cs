using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Microsoft.ML.DynMoE.Cli
{
    /// <summary>
    /// A Model Builder image folder (one subfolder of images per label) read once through ML.NET's
    /// LoadImages → ResizeImages → ExtractPixels into memory, so every fold and candidate reuses the decoded pixels.
    /// </summary>
    internal static class ImageFolderData
    {
        public const string LabelColumn = "Label";
        private static readonly HashSet<string> Extensions = new(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".bmp", ".gif" };

        private sealed class ImageFile
        {
            public string Label { get; set; } = "";
            public string ImagePath { get; set; } = "";
        }

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
                    .Select(f => new ImageFile { Label = Path.GetFileName(d), ImagePath = Path.GetFullPath(f) }))
                .ToList();
            classes = files.Select(f => f.Label).Distinct().Count();
            if (files.Count == 0 || classes < 2)
                throw new CliUsageException($"Image folder '{folder}' holds {files.Count} images in {classes} label subfolder(s); classification needs images (png, jpg, bmp, gif) in at least two subfolders, one per label.");

            int channels = shape.Channels == 0 ? 3 : shape.Channels;
            if (channels is not (1 or 3 or 4))
                throw new CliUsageException($"--image-size {shape}: images from files have 1 (grey), 3 (RGB) or 4 (ARGB) channels.");
            IEstimator<ITransformer> pipeline = ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ImageFile.ImagePath))
                .Append(ml.Transforms.ResizeImages("Image", shape.Width, shape.Height));
            if (channels == 1)
                pipeline = pipeline.Append(ml.Transforms.ConvertToGrayscale("Image"));
            var colors = channels switch
            {
                1 => ImagePixelExtractingEstimator.ColorBits.Red,
                4 => ImagePixelExtractingEstimator.ColorBits.All,
                _ => ImagePixelExtractingEstimator.ColorBits.Rgb,
            };
            pipeline = pipeline.Append(ml.Transforms.ExtractPixels("Features", "Image", colorsToExtract: colors));
            var input = ml.Data.LoadFromEnumerable(files);
            var pixels = pipeline.Fit(input).Transform(input);
            var rows = new List<PixelRow>(files.Count);
            using (var cursor = pixels.GetRowCursor(new[] { pixels.Schema["Label"], pixels.Schema["Features"] }))
            {
                var label = cursor.GetGetter<ReadOnlyMemory<char>>(pixels.Schema["Label"]);
                var features = cursor.GetGetter<VBuffer<float>>(pixels.Schema["Features"]);
                ReadOnlyMemory<char> l = default;
                VBuffer<float> f = default;
                while (cursor.MoveNext())
                {
                    label(ref l);
                    features(ref f);
                    rows.Add(new PixelRow { Label = l.ToString(), Features = f.DenseValues().ToArray() });
                }
            }

            var schema = SchemaDefinition.Create(typeof(PixelRow));
            schema[nameof(PixelRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, shape.Height * shape.Width * channels);
            return ml.Data.LoadFromEnumerable(rows, schema);
        }
    }
}
