/* The float32 build of the sources written against nn_real (include/nncas/real.h):
 * CMake compiles them a second time with this header force-included
 * (-include nncas/real_single.h). nn_real is then float, and every global
 * symbol those sources define, written under its float64 name, gets the
 * suffix _single below, so that both builds link into one library and a
 * caller picks the precision by name (net_forward, net_forward_single; the
 * headers declare both). A new global symbol in those sources needs its line
 * here: without it the two builds define it twice, which the link refuses. */
#ifndef NNCAS_REAL_SINGLE_H
#define NNCAS_REAL_SINGLE_H

#define NN_SINGLE

/* src/net/net_pass.c */
#define layer_ops                layer_ops_single
#define net_pass_register_events net_pass_register_events_single
#define net_state_create         net_state_create_single
#define net_state_destroy        net_state_destroy_single
#define net_setup_tangents       net_setup_tangents_single
#define net_get_output_tangents  net_get_output_tangents_single
#define net_forward              net_forward_single
#define net_backward             net_backward_single
#define net_rop_forward          net_rop_forward_single
#define net_rop_backward         net_rop_backward_single
/* src/net/layer_*.c */
#define layer_dense_ops   layer_dense_ops_single
#define layer_conv_ops    layer_conv_ops_single
#define layer_pool_ops    layer_pool_ops_single
#define layer_act_ops     layer_act_ops_single
#define layer_bn_ops      layer_bn_ops_single
#define layer_dropout_ops layer_dropout_ops_single
#define layer_flatten_ops layer_flatten_ops_single
#define layer_avgpool_ops layer_avgpool_ops_single
#define layer_scale_ops   layer_scale_ops_single
#define conv_chunk        conv_chunk_single
#define im2col            im2col_single
#define col2im            col2im_single
/* src/hessian/slice.c */
#define hessian_slice_passes hessian_slice_passes_single

#endif
