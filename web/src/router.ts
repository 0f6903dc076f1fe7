import { createRouter, createWebHistory } from 'vue-router'
import { setUnauthorizedHandler } from './api'
import { loadMe, session } from './session'

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/login', name: 'login', component: () => import('./views/LoginView.vue') },
    {
      path: '/',
      component: () => import('./layouts/AppLayout.vue'),
      children: [
        { path: '', redirect: '/overview' },
        { path: 'overview', name: 'overview', component: () => import('./views/OverviewView.vue') },
        { path: 'analytics', name: 'analytics', component: () => import('./views/AnalyticsView.vue') },
        { path: 'customers', name: 'customers', component: () => import('./views/CustomersView.vue') },
        { path: 'customers/:id', name: 'customer', component: () => import('./views/CustomerView.vue') },
        { path: 'tags', name: 'tags', component: () => import('./views/TagsView.vue') },
        { path: 'segments', name: 'segments', component: () => import('./views/SegmentsView.vue') },
        { path: 'segments/:id', name: 'segment', component: () => import('./views/SegmentView.vue') },
        { path: 'journeys', name: 'journeys', component: () => import('./views/JourneysView.vue') },
        { path: 'journeys/:id', name: 'journey', component: () => import('./views/JourneyView.vue') },
        { path: 'deliveries', name: 'deliveries', component: () => import('./views/DeliveriesView.vue') },
        { path: 'tasks', name: 'tasks', component: () => import('./views/TasksView.vue') },
        { path: 'community', name: 'community', component: () => import('./views/CommunityView.vue') },
        { path: 'community/groups/:id', name: 'group', component: () => import('./views/GroupView.vue') },
        { path: 'moderation', name: 'moderation', component: () => import('./views/ModerationView.vue') },
        { path: 'orders', name: 'orders', component: () => import('./views/OrdersView.vue') },
        { path: 'channels', name: 'channels', component: () => import('./views/ChannelsView.vue') },
        { path: 'staff', name: 'staff', component: () => import('./views/StaffView.vue') },
        { path: 'keys', name: 'keys', component: () => import('./views/KeysView.vue') },
        { path: 'audit', name: 'audit', component: () => import('./views/AuditView.vue') },
      ],
    },
    { path: '/:pathMatch(.*)*', redirect: '/overview' },
  ],
})

router.beforeEach(async (to) => {
  if (to.name === 'login') return true
  if (!session.me && !(await loadMe())) return { name: 'login', query: { redirect: to.fullPath } }
  return true
})

// An expired session mid-work: back to sign-in, then back to the same page.
setUnauthorizedHandler(() => {
  session.me = null
  const current = router.currentRoute.value
  if (current.name !== 'login') router.push({ name: 'login', query: { redirect: current.fullPath } })
})
