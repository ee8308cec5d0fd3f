//! Chapters 11 and 12: the famous networks against their reference definitions. For the
//! networks torchvision has, `tests/data/torchvision-architectures.json` (written by
//! `tests/pytorch/architectures.py` from torchvision 0.29.2) records every parameter's
//! name and shape, every buffer's, the output shape for one 224 x 224 image, and the
//! multiply-accumulates PyTorch's FLOP counter finds; the library's definitions must
//! match all of them. The parameter totals are also those torchvision's documentation
//! publishes for its models.

use std::collections::BTreeMap;

use cnn_book::architectures::{alexnet, by_name, googlenet, vgg16, zfnet, NAMES};
use cnn_book::layer::{param_count, Layer};
use cnn_book::model::{named_buffers, named_params, summary};
use cnn_book::resnet::{resnet152, resnet18, resnet34, resnet50};
use serde::Deserialize;

#[derive(Deserialize)]
struct Network {
    params: usize,
    parameters: Vec<(String, Vec<usize>)>,
    buffers: Vec<(String, Vec<usize>)>,
    output: Vec<usize>,
    macs: u64,
}

#[derive(Deserialize)]
struct Reference {
    torchvision: String,
    networks: BTreeMap<String, Network>,
}

/// torchvision's name for one of the library's: a residual block's layers sit in its
/// `body` here, and its projection shortcut is torchvision's `downsample`.
fn torchvision_name(name: &str) -> String {
    name.replace(".body.", ".")
        .replace(".shortcut.", ".downsample.")
}

fn check(name: &str, net: &dyn Layer, published_total: usize, reference: &Reference) {
    let expected = &reference.networks[name];
    // The totals torchvision's model documentation lists, and the recorded ones.
    assert_eq!(
        param_count(net),
        published_total,
        "{name}: total parameters"
    );
    assert_eq!(
        expected.params, published_total,
        "{name}: the record disagrees with the documentation"
    );
    let ours: Vec<(String, Vec<usize>)> = named_params(net)
        .into_iter()
        .map(|(n, p)| (torchvision_name(&n), p.value.shape().to_vec()))
        .collect();
    assert_eq!(
        ours, expected.parameters,
        "{name}: parameters (names and shapes, in order)"
    );
    let buffers: Vec<(String, Vec<usize>)> = named_buffers(net)
        .into_iter()
        .map(|(n, b)| (torchvision_name(&n), b.shape().to_vec()))
        .collect();
    assert_eq!(buffers, expected.buffers, "{name}: buffers");
    let input = [1, 3, 224, 224];
    assert_eq!(
        net.output_shape(&input).unwrap(),
        expected.output,
        "{name}: output"
    );
    let s = summary(net, &input, 1).unwrap();
    assert_eq!(
        s.total_multiply_adds, expected.macs,
        "{name}: multiply-accumulates"
    );
    assert_eq!(s.total_params, published_total);
}

#[test]
fn the_networks_are_torchvisions() {
    let text = std::fs::read_to_string("tests/data/torchvision-architectures.json").unwrap();
    let reference: Reference = serde_json::from_str(&text).unwrap();
    assert!(
        reference.torchvision.starts_with("0.29"),
        "{}",
        reference.torchvision
    );
    // Totals from torchvision's model documentation (pytorch.org/vision/stable/models),
    // "Params" column: AlexNet 61.1M, VGG16 138.4M, GoogLeNet 6.6M, ResNet-18 11.7M,
    // ResNet-34 21.8M, ResNet-50 25.6M, ResNet-152 60.2M; exactly, as the models count them.
    check("alexnet", &alexnet(1), 61_100_840, &reference);
    check("vgg16", &vgg16(1), 138_357_544, &reference);
    check("googlenet", &googlenet(1), 6_624_904, &reference);
    check("resnet18", &resnet18(1), 11_689_512, &reference);
    check("resnet34", &resnet34(1), 21_797_672, &reference);
    check("resnet50", &resnet50(1), 25_557_032, &reference);
    check("resnet152", &resnet152(1), 60_192_808, &reference);
}

#[test]
fn zfnet_has_the_sizes_and_parameters_of_its_figure_3() {
    // Zeiler & Fergus (2014), Figure 3: 224 -> 110 -> 55 -> 26 -> 13 -> 13 -> 13 -> 6, and
    // 6 * 6 * 256 = 9,216 inputs to the first fully connected layer.
    let net = zfnet(1);
    let s = summary(&net, &[1, 3, 224, 224], 2).unwrap();
    let size = |path: &str| {
        s.rows
            .iter()
            .find(|r| r.path == path)
            .unwrap()
            .output
            .clone()
    };
    assert_eq!(size("features.0"), vec![1, 96, 110, 110]);
    assert_eq!(size("features.2"), vec![1, 96, 55, 55]);
    assert_eq!(size("features.4"), vec![1, 256, 26, 26]);
    assert_eq!(size("features.6"), vec![1, 256, 13, 13]);
    assert_eq!(size("features.14"), vec![1, 256, 6, 6]);
    // Parameters by hand, weights + biases:
    // conv1 96*3*7*7 + 96 = 14,208; conv2 256*96*5*5 + 256 = 614,656;
    // conv3 384*256*9 + 384 = 885,120; conv4 384*384*9 + 384 = 1,327,488;
    // conv5 256*384*9 + 256 = 884,992; fc6 9216*4096 + 4096 = 37,752,832;
    // fc7 4096*4096 + 4096 = 16,781,312; fc8 4096*1000 + 1000 = 4,097,000.
    let by_hand =
        14_208 + 614_656 + 885_120 + 1_327_488 + 884_992 + 37_752_832 + 16_781_312 + 4_097_000;
    assert_eq!(by_hand, 62_357_608);
    assert_eq!(s.total_params, by_hand);
}

#[test]
fn every_network_has_a_summary_that_ends_with_its_total() {
    for name in NAMES {
        let (net, input) = by_name(name, 1).unwrap();
        let s = summary(&net, &input, 2).unwrap();
        assert_eq!(s.total_params, param_count(&net), "{name}");
        // The rows of the top level add up to the totals.
        let top: usize = s
            .rows
            .iter()
            .filter(|r| r.depth == 1)
            .map(|r| r.params)
            .sum();
        assert_eq!(top, s.total_params, "{name}");
        let text = s.to_string();
        let last = text.lines().last().unwrap();
        assert_eq!(
            last,
            format!(
                "Total params: {}",
                cnn_book::format::thousands(s.total_params as u64)
            ),
            "{name}"
        );
    }
    assert!(by_name("resnet101", 1).is_err());
}

#[test]
fn lenet_differs_from_the_papers_60000_parameters_by_four_choices() {
    // LeCun et al. (1998), section II.B: C1 156 trainable parameters, S2 12, C3 1,516
    // (its table I connects each of the 16 maps to only some of the 6 below), S4 32,
    // C5 48,120, F6 10,164; the output layer is 10 Euclidean RBF units whose 84 x 10
    // weights are fixed, not learned. Total 60,000: the paper's "60,000 trainable
    // parameters".
    let paper = 156 + 12 + 1_516 + 32 + 48_120 + 10_164;
    assert_eq!(paper, 60_000);
    // The book's LeNet (chapter 9): C3 connects every map (16 * 6 * 25 + 16 = 2,416),
    // max pooling has no coefficients (the paper's S2 and S4 had a weight and a bias per
    // map, 2 * 6 and 2 * 16), and the output is a learned linear layer (84 * 10 + 10).
    let book = paper - 1_516 + 2_416 - 12 - 32 + 850;
    let (net, input) = by_name("lenet", 1).unwrap();
    assert_eq!(input, vec![1, 1, 28, 28]);
    assert_eq!(param_count(&net), book);
    assert_eq!(book, 61_706);
}

#[test]
fn inception_3a_with_and_without_reductions_counted_by_hand() {
    use cnn_book::architectures::{inception_naive, inception_paper, GOOGLENET_MODULES};
    use rand::SeedableRng;
    let r = &mut rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let (name, w) = GOOGLENET_MODULES[0];
    assert_eq!(name, "inception3a");
    let input = [1, 192, 28, 28];
    // Naive (Figure 2a) with 3a's output widths, 64, 128 and 32:
    // 1x1: 192*64 + 64 = 12,352; 3x3: 192*9*128 + 128 = 221,312; 5x5: 192*25*32 + 32 =
    // 153,632. Multiply-adds: 28*28 positions times 192*64 + 192*9*128 + 192*25*32 =
    // 387,072 weights.
    let naive = inception_naive(192, w.c1, w.c3, w.c5, r);
    let s = summary(&naive, &input, 1).unwrap();
    assert_eq!(s.total_params, 12_352 + 221_312 + 153_632);
    assert_eq!(s.total_multiply_adds, 784 * 387_072);
    // The pooling branch passes all 192 channels on: 64 + 128 + 32 + 192 = 416.
    assert_eq!(s.output, vec![1, 416, 28, 28]);
    // With reductions (Figure 2b, Table 1): 1x1 12,352; 192*96 + 96 = 18,528 and
    // 96*9*128 + 128 = 110,720; 192*16 + 16 = 3,088 and 16*25*32 + 32 = 12,832;
    // 192*32 + 32 = 6,176. Weights: 12,288 + 18,432 + 110,592 + 3,072 + 12,800 + 6,144
    // = 163,328, which Table 1 lists as "159K" (thousands of 1,024).
    let reduced = inception_paper(192, w, r);
    let s = summary(&reduced, &input, 1).unwrap();
    assert_eq!(
        s.total_params,
        12_352 + 18_528 + 110_720 + 3_088 + 12_832 + 6_176
    );
    assert_eq!(s.total_multiply_adds, 784 * 163_328);
    assert_eq!(163_328 / 1024, 159);
    assert_eq!(s.output, vec![1, 256, 28, 28]);
    // Table 1's "ops" column for 3a: 128M.
    assert_eq!((784 * 163_328) / 1_000_000, 128);
}

#[test]
fn resnets_have_the_depth_their_names_say() {
    // The name counts the convolutions and fully connected layers along the main path,
    // not the projection shortcuts: 18 = 1 + 2 (2 + 2 + 2 + 2) + 1, 50 = 1 + 3 (3 + 4 + 6
    // + 3) + 1, and so on.
    use cnn_book::figures::resnet::weighted_layers;
    use cnn_book::resnet::{small_image_depth, small_image_net};
    assert_eq!(weighted_layers(&resnet18(1)), 1 + 2 * 8 + 1);
    assert_eq!(weighted_layers(&resnet34(1)), 1 + 2 * 16 + 1);
    assert_eq!(weighted_layers(&resnet50(1)), 1 + 3 * 16 + 1);
    assert_eq!(weighted_layers(&resnet152(1)), 1 + 3 * 50 + 1);
    for n in [1, 3, 9] {
        // He et al., section 4.2: 6n + 2 layers, 20 and 56 for n = 3 and 9.
        assert_eq!(small_image_depth(n), 6 * n + 2);
        for residual in [false, true] {
            let net = small_image_net(n, 8, residual, 1);
            assert_eq!(weighted_layers(&net), 6 * n + 2, "n = {n}");
        }
    }
}

#[test]
fn plain_and_residual_networks_differ_only_by_their_projections() {
    // Two projections (stage 2: 8 -> 16 channels, stage 3: 16 -> 32), each a 1 x 1
    // convolution without bias and a batch norm: 8 * 16 + 2 * 16 = 160 and
    // 16 * 32 + 2 * 32 = 576 parameters, whatever the depth.
    use cnn_book::resnet::small_image_net;
    for n in [1, 3, 9] {
        let plain = param_count(&small_image_net(n, 8, false, 1));
        let residual = param_count(&small_image_net(n, 8, true, 1));
        assert_eq!(residual - plain, 160 + 576, "n = {n}");
    }
    // The small ResNet of chapter 12 by hand: stem 9 * 16 + 32 = 176; block 16 -> 16:
    // 2 * (16 * 16 * 9) + 4 * 16 = 4,672; block 16 -> 32, stride 2: 16 * 32 * 9 + 64 +
    // 32 * 32 * 9 + 64 + projection 16 * 32 + 64 = 14,528; block 32 -> 64: 32 * 64 * 9 + 128
    // + 64 * 64 * 9 + 128 + 32 * 64 + 128 = 57,728; classifier 64 * 10 + 10 = 650.
    let small = cnn_book::figures::resnet::small_resnet(1);
    assert_eq!(param_count(&small), 176 + 4_672 + 14_528 + 57_728 + 650);
}

#[test]
fn alexnet_as_its_paper_describes_it() {
    // Krizhevsky, Sutskever & Hinton (2012), section 3.5 and Figure 2; weights + biases.
    // conv1 96 * 3 * 11 * 11 + 96 = 34,944 (the slides' number); conv2 two GPUs of
    // 128 * 48 * 5 * 5 + 128 = 153,728 each, 307,456; conv3 sees both GPUs,
    // 384 * 256 * 3 * 3 + 384 = 885,120; conv4 2 * (192 * 192 * 9 + 192) = 663,936;
    // conv5 2 * (128 * 192 * 9 + 128) = 442,624; fc6 9216 * 4096 + 4096 = 37,752,832;
    // fc7 16,781,312; fc8 4,097,000. The paper: "60 million parameters".
    let by_hand =
        34_944 + 307_456 + 885_120 + 663_936 + 442_624 + 37_752_832 + 16_781_312 + 4_097_000;
    assert_eq!(by_hand, 60_965_224);
    let (net, input) = by_name("alexnet-paper", 1).unwrap();
    assert_eq!(input, vec![1, 3, 227, 227]);
    let s = summary(&net, &input, 2).unwrap();
    assert_eq!(s.total_params, by_hand);
    assert_eq!(s.output, vec![1, 1000]);
    // The neurons of each layer with weights (its output), against the caption of the
    // paper's Figure 2: 253,440-186,624-64,896-64,896-43,264-4096-4096-1000. All agree
    // but the first, which 227 x 227 inputs make 55 * 55 * 96 = 290,400 (chapter 3).
    let neurons: Vec<usize> = s
        .rows
        .iter()
        .filter(|r| r.depth == 2 && r.params > 0)
        .map(|r| r.output[1..].iter().product())
        .collect();
    assert_eq!(
        neurons,
        vec![290_400, 186_624, 64_896, 64_896, 43_264, 4096, 4096, 1000]
    );
    let paper = [253_440, 186_624, 64_896, 64_896, 43_264, 4096, 4096, 1000];
    let differ: Vec<usize> = (0..8).filter(|&i| neurons[i] != paper[i]).collect();
    assert_eq!(differ, vec![0]);
}

#[test]
fn a_grouped_layer_splits_the_channels_and_checks_its_gradient() {
    use cnn_book::gradcheck::check_gradients;
    use cnn_book::init::Init;
    use cnn_book::layer::{Mode, Tensor};
    use cnn_book::layers::{Conv2d, Grouped};
    use rand::SeedableRng;
    let r = &mut rand_chacha::ChaCha8Rng::seed_from_u64(5);
    // Two 1 x 1 convolutions of one channel each, weights 2 and 3, no bias: channel 0 is
    // doubled, channel 1 tripled, and neither sees the other.
    let mut a = Conv2d::new(1, 1, 1, Init::He, r).without_bias();
    a.weight.value.fill(2.0);
    let mut b = Conv2d::new(1, 1, 1, Init::He, r).without_bias();
    b.weight.value.fill(3.0);
    let mut grouped = Grouped::new().group(a).group(b);
    let x = Tensor::from_shape_vec(vec![1, 2, 1, 2], vec![1.0, -1.0, 5.0, 7.0]).unwrap();
    let y = grouped.forward(&x, Mode::Train).unwrap();
    assert_eq!(
        y.iter().copied().collect::<Vec<_>>(),
        vec![2.0, -2.0, 15.0, 21.0]
    );
    let dx = grouped.backward(&Tensor::ones(vec![1, 2, 1, 2])).unwrap();
    assert_eq!(
        dx.iter().copied().collect::<Vec<_>>(),
        vec![2.0, 2.0, 3.0, 3.0]
    );
    // Three channels do not split in two.
    let err = grouped
        .forward(&Tensor::zeros(vec![1, 3, 1, 1]), Mode::Train)
        .unwrap_err()
        .to_string();
    assert!(err.contains("2 equal groups"), "{err}");
    // Two groups of 3 x 3 convolutions, 4 -> 6 channels, against finite differences.
    let mut grouped = Grouped::new()
        .group(Conv2d::new(2, 3, 3, Init::He, r).padding(1))
        .group(Conv2d::new(2, 3, 3, Init::He, r).padding(1));
    let x = Tensor::from_shape_fn(vec![2, 4, 4, 4], |d| {
        ((d[0] * 7 + d[1] * 5 + d[2] * 3 + d[3]) % 11) as f32 / 5.0 - 1.0
    });
    let report = check_gradients(&mut grouped, &x, Mode::Train, 1e-2, 60, 1).unwrap();
    assert!(report.max_relative_error < 1e-2, "{report:?}");
    assert_eq!(param_count(&grouped), 2 * (3 * 2 * 9 + 3));
}

#[test]
fn the_committed_small_resnet_classifies_as_its_run_recorded() {
    use cnn_book::data::fashion_mnist::{load, locate, sample, Split};
    use cnn_book::figures::resnet::{read, small_resnet, WEIGHTS};
    use cnn_book::train::{evaluate, standardise};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let results = read(&root.join("book")).unwrap();
    let mut net = small_resnet(0);
    cnn_book::checkpoint::load_recorded(
        &mut net,
        &root.join(WEIGHTS),
        &results.small.weights_checksum,
    )
    .unwrap();
    let norm = results.normalisation;
    // The 1,000 embedded images are part of the test set: a spot check.
    let data = sample();
    let labels: Vec<usize> = data.labels.iter().map(|&l| l as usize).collect();
    let x = standardise(&data, norm.mean, norm.std);
    let (_, spot, _) = evaluate(&mut net, &x, &labels, 250).unwrap();
    assert!(spot > 0.88, "{spot}");
    // All 10,000, where the full data set is installed: the recorded accuracy, up to a few
    // images that another CPU's rounding may tip.
    match locate(None) {
        Ok(dir) => {
            let test = load(&dir, Split::Test).unwrap();
            let labels: Vec<usize> = test.labels.iter().map(|&l| l as usize).collect();
            let x = standardise(&test, norm.mean, norm.std);
            let (_, accuracy, _) = evaluate(&mut net, &x, &labels, 500).unwrap();
            println!(
                "small ResNet: {accuracy} on the test set, {} recorded",
                results.small.test_accuracy
            );
            assert!(
                (accuracy - results.small.test_accuracy).abs() <= 0.002,
                "{accuracy} against {}",
                results.small.test_accuracy
            );
            assert!(accuracy >= 0.92, "{accuracy}");
        }
        Err(_) => println!("the full Fashion-MNIST is not installed: checked the sample only"),
    }
}
