import { createI18n } from 'vue-i18n'

const zh = {
  app: { name: '私域运营台', signOut: '退出登录', language: 'English' },
  nav: { overview: '数据概览', customers: '客户', tags: '标签', segments: '人群', orders: '订单', channels: '渠道', staff: '员工与角色', keys: 'API 密钥', audit: '审计日志' },
  common: {
    loading: '加载中…', empty: '暂无数据', retry: '重试', search: '搜索', reset: '重置', save: '保存', cancel: '取消',
    create: '新建', add: '添加', actions: '操作', prev: '上一页', next: '下一页', export: '导出 CSV', columns: '列设置',
    confirm: '确定', revoke: '吊销', loadMore: '加载更多', noMore: '没有更多了', all: '全部', yes: '是', no: '否',
  },
  login: {
    title: '登录私域运营台', workspace: '工作区', email: '邮箱', password: '密码', submit: '登录',
    failed: '登录失败', required: '请填写工作区、邮箱和密码',
  },
  layer: { none: '访客', fan: '粉丝', community: '社群', friend: '好友', member: '铁杆' },
  gender: { male: '男', female: '女', unknown: '未知' },
  role: { owner: '所有者', admin: '管理员', operator: '运营', staff: '员工', analyst: '分析师' },
  kind: {
    store: '门店', paid_ads: '付费投放', content: '内容账号', employee: '员工 IP', product: '产品媒体化', brand: '品牌/IP',
    fission: '裂变', partner: '合伙人/KOC',
  },
  overview: {
    period: '统计周期', days30: '近 30 天', days90: '近 90 天', customers: '客户总数', newCustomers: '新增客户',
    orders: '订单数', gmv: 'GMV', aov: '客单价', buyers: '购买人数', funnel: '关系分层漏斗', newByChannel: '每日新增客户（按渠道）',
    noChannel: '未知渠道',
  },
  customers: {
    searchHint: '姓名 / 手机后四位 / 任意身份 ID', layer: '分层', channel: '渠道', owner: '归属员工', tag: '标签',
    id: 'ID', name: '姓名', phone: '手机', city: '城市', createdAt: '加入时间', bulkTag: '批量打标签', tagName: '标签名',
    selected: '已选 {n} 人', tagged: '已为 {n} 人添加标签', anonymous: '匿名',
  },
  profile: {
    attributes: '基本信息', identities: '身份', tags: '标签', relations: '关系', orders: '订单', timeline: '时间线',
    reveal: '查看完整信息', revealed: '已显示完整信息（已记录审计）', gender: '性别', birthday: '生日', email: '邮箱',
    campaign: '活动', content: '内容', reassign: '更换归属员工', reassigned: '已更换归属员工', newTag: '新标签',
    group: '社群', follow: '关注', friend: '好友', membership: '会员', orderId: '订单号', amount: '金额', status: '状态',
    store: '门店', orderedAt: '下单时间', type: '类型', value: '值', back: '返回客户列表', lifecycle: '生命周期',
  },
  channels: {
    kind: '来源类型', name: '名称', code: '渠道码', customers: '获客数', cost: '投入', cpa: '单客成本', costs: '投入记录',
    date: '日期', amountYuan: '金额（元）', note: '备注', addCost: '记录投入', created: '渠道已创建',
  },
  orders: { since: '{date} 起的订单' },
  segments: {
    new: '新建人群', name: '名称', size: '人数', updated: '更新时间', members: '成员', delete: '删除', match: '满足',
    all: '全部条件', any: '任一条件', not: '不满足', addCondition: '添加条件', liveCount: '实时人数', saved: '人群已保存',
    tagAll: '为全部成员打标签',
    kind: { tag: '标签', layer: '分层', city: '城市', city_prefix: '城市前缀', gender: '性别', channel_id: '渠道', owner_staff_id: '归属员工', joined: '加入时间',
      behaviour: '行为', lifecycle: '生命周期', rfm_r: 'RFM 最近购买', rfm_f: 'RFM 购买频次', rfm_m: 'RFM 消费金额', group: '所在社群', spend: '累计消费', segment: '已存人群', custom: '自定义字段', nested: '条件组' },
    op: { eq: '等于', ne: '不等于', in: '属于', range: '范围', prefix: '开头是', exists: '有值' }, from: '从', below: '低于', whereProperty: '属性', propertyValue: '属性值',
    days: '天内', times: '次数', yuan: '金额(元)', fromYuan: '最低(元)', toYuan: '低于(元)', sizeOverTime: '人数变化',
    changes: '进出记录', enter: '进入', exit: '退出', change: '变化', customer: '客户',
  },
  lifecycle: { new: '新客', active: '活跃', repeat: '复购', loyal: '忠诚', at_risk: '流失预警', churned: '沉睡' },
  tags: {
    eventProperties: '事件属性', eventPropertiesHint: '按属性值计数的事件属性，用于“14 天内浏览护肤内容 ≥ 2 次”这类行为条件', label: '名称',
    groups: '标签组', newGroup: '新建标签组', tags: '标签', name: '名称', group: '标签组', ungrouped: '未分组', customers: '人数',
    rule: '规则', manual: '手动', define: '定义标签', description: '说明', rules: '自动标签规则', newRule: '新建规则',
    editRule: '编辑规则', tag: '标签', expression: '条件（人群表达式 JSON）', enabled: '启用', preview: '预览',
    matches: '符合 {n} 人', gain: '将新增 {n} 人', lose: '将移除 {n} 人', sweptAt: '最近执行', sweep: '立即执行',
    swept: '已执行：新增 {gained}，移除 {lost}', lastRun: '上次 +{gained} / -{lost}', badJson: '条件不是合法的 JSON',
  },
  staff: { email: '邮箱', name: '姓名', role: '角色', disabled: '停用', password: '初始密码（至少 10 位）', created: '员工已创建' },
  keys: { name: '名称', role: '角色', prefix: '前缀', createdAt: '创建时间', lastUsed: '最近使用', revokedAt: '吊销时间', shownOnce: '请立即复制，此密钥只显示一次', revoked: '已吊销' },
  audit: { at: '时间', actor: '操作人', action: '操作', target: '对象', detail: '详情' },
}

const en: typeof zh = {
  app: { name: 'Siyu Console', signOut: 'Sign out', language: '中文' },
  nav: { overview: 'Overview', customers: 'Customers', tags: 'Tags', segments: 'Segments', orders: 'Orders', channels: 'Channels', staff: 'Staff & roles', keys: 'API keys', audit: 'Audit log' },
  common: {
    loading: 'Loading…', empty: 'No data', retry: 'Retry', search: 'Search', reset: 'Reset', save: 'Save', cancel: 'Cancel',
    create: 'Create', add: 'Add', actions: 'Actions', prev: 'Previous', next: 'Next', export: 'Export CSV', columns: 'Columns',
    confirm: 'OK', revoke: 'Revoke', loadMore: 'Load more', noMore: 'No more', all: 'All', yes: 'Yes', no: 'No',
  },
  login: {
    title: 'Sign in to Siyu', workspace: 'Workspace', email: 'E-mail', password: 'Password', submit: 'Sign in',
    failed: 'Sign-in failed', required: 'Enter workspace, e-mail and password',
  },
  layer: { none: 'Visitor', fan: 'Fan', community: 'Community', friend: 'Friend', member: 'Member' },
  gender: { male: 'Male', female: 'Female', unknown: 'Unknown' },
  role: { owner: 'Owner', admin: 'Admin', operator: 'Operator', staff: 'Staff', analyst: 'Analyst' },
  kind: {
    store: 'Stores', paid_ads: 'Paid ads', content: 'Content accounts', employee: 'Employees as media', product: 'Product as media',
    brand: 'Brand/IP', fission: 'Fission', partner: 'Partners/KOC',
  },
  overview: {
    period: 'Period', days30: 'Last 30 days', days90: 'Last 90 days', customers: 'Customers', newCustomers: 'New customers',
    orders: 'Orders', gmv: 'GMV', aov: 'Average order value', buyers: 'Buyers', funnel: 'Layer funnel', newByChannel: 'New customers per day by channel',
    noChannel: 'No channel',
  },
  customers: {
    searchHint: 'Name / last 4 phone digits / any identity', layer: 'Layer', channel: 'Channel', owner: 'Owner staff', tag: 'Tag',
    id: 'ID', name: 'Name', phone: 'Phone', city: 'City', createdAt: 'Joined', bulkTag: 'Bulk tag', tagName: 'Tag',
    selected: '{n} selected', tagged: 'Tagged {n} customers', anonymous: 'Anonymous',
  },
  profile: {
    attributes: 'Attributes', identities: 'Identities', tags: 'Tags', relations: 'Relationships', orders: 'Orders', timeline: 'Timeline',
    reveal: 'Reveal', revealed: 'Personal data shown (audited)', gender: 'Gender', birthday: 'Birthday', email: 'E-mail',
    campaign: 'Campaign', content: 'Content', reassign: 'Reassign owner', reassigned: 'Owner reassigned', newTag: 'New tag',
    group: 'Group', follow: 'Follows', friend: 'Friend of', membership: 'Membership', orderId: 'Order', amount: 'Amount', status: 'Status',
    store: 'Store', orderedAt: 'Ordered', type: 'Type', value: 'Value', back: 'Back to customers', lifecycle: 'Lifecycle',
  },
  channels: {
    kind: 'Source', name: 'Name', code: 'Code', customers: 'Customers', cost: 'Cost', cpa: 'Cost per customer', costs: 'Cost entries',
    date: 'Date', amountYuan: 'Amount (¥)', note: 'Note', addCost: 'Record cost', created: 'Channel created',
  },
  orders: { since: 'Orders since {date}' },
  segments: {
    new: 'New segment', name: 'Name', size: 'Size', updated: 'Updated', members: 'Members', delete: 'Delete', match: 'Match',
    all: 'All conditions', any: 'Any condition', not: 'Not', addCondition: 'Add condition', liveCount: 'Live count', saved: 'Segment saved',
    tagAll: 'Tag every member',
    kind: { tag: 'Tag', layer: 'Layer', city: 'City', city_prefix: 'City starts with', gender: 'Gender', channel_id: 'Channel', owner_staff_id: 'Owner staff', joined: 'Joined',
      behaviour: 'Behaviour', lifecycle: 'Lifecycle', rfm_r: 'RFM recency', rfm_f: 'RFM frequency', rfm_m: 'RFM monetary', group: 'In group', spend: 'Total spend', segment: 'Saved segment', custom: 'Custom field', nested: 'Group of conditions' },
    op: { eq: 'is', ne: 'is not', in: 'is one of', range: 'between', prefix: 'starts with', exists: 'has a value' }, from: 'from', below: 'below', whereProperty: 'property', propertyValue: 'value',
    days: 'days', times: 'times', yuan: 'yuan', fromYuan: 'from (yuan)', toYuan: 'below (yuan)', sizeOverTime: 'Size over time',
    changes: 'Enter / exit', enter: 'entered', exit: 'left', change: 'Change', customer: 'Customer',
  },
  lifecycle: { new: 'New', active: 'Active', repeat: 'Repeat buyer', loyal: 'Loyal', at_risk: 'At risk', churned: 'Churned' },
  tags: {
    eventProperties: 'Event properties', eventPropertiesHint: 'Event properties counted per value, for behaviour conditions such as “viewed content tagged 护肤 twice in 14 days”', label: 'Label',
    groups: 'Tag groups', newGroup: 'New group', tags: 'Tags', name: 'Name', group: 'Group', ungrouped: 'Ungrouped', customers: 'Customers',
    rule: 'Rule', manual: 'Manual', define: 'Define tag', description: 'Description', rules: 'Auto-tag rules', newRule: 'New rule',
    editRule: 'Edit rule', tag: 'Tag', expression: 'Condition (segment expression JSON)', enabled: 'Enabled', preview: 'Preview',
    matches: '{n} match', gain: '{n} would gain it', lose: '{n} would lose it', sweptAt: 'Last run', sweep: 'Run now',
    swept: 'Done: {gained} gained, {lost} lost', lastRun: 'last +{gained} / -{lost}', badJson: 'The condition is not valid JSON',
  },
  staff: { email: 'E-mail', name: 'Name', role: 'Role', disabled: 'Disabled', password: 'Initial password (10+ characters)', created: 'Staff created' },
  keys: { name: 'Name', role: 'Role', prefix: 'Prefix', createdAt: 'Created', lastUsed: 'Last used', revokedAt: 'Revoked', shownOnce: 'Copy it now: this key is shown only once', revoked: 'Revoked' },
  audit: { at: 'Time', actor: 'Actor', action: 'Action', target: 'Target', detail: 'Detail' },
}

export const i18n = createI18n({
  legacy: false,
  locale: localStorage.getItem('siyu.locale') ?? 'zh-CN',
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zh, en },
})

export function setLocale(locale: 'zh-CN' | 'en') {
  i18n.global.locale.value = locale
  localStorage.setItem('siyu.locale', locale)
  document.documentElement.lang = locale
}
